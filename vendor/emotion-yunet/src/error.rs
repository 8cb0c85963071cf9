use core::fmt;

/// Errors returned by the safe Rust API: bad image dimensions or strides, a short buffer, or a
/// detection parameter out of range ([`crate::DetectionOutputParams::validate`]).
#[derive(Debug, Clone, PartialEq)]
pub enum DetectError {
    InvalidDimension { name: &'static str, value: usize },
    DimensionOverflow,
    InvalidParam { name: &'static str, value: f32 },
    StepTooSmall { step: usize, min_step: usize },
    ImageTooSmall { actual: usize, required: usize },
    ResultBufferTooSmall { actual: usize, required: usize },
}

impl fmt::Display for DetectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidDimension { name, value } => {
                write!(f, "invalid {name}: {value}")
            }
            Self::DimensionOverflow => write!(f, "image dimensions overflow"),
            Self::InvalidParam { name, value } => write!(f, "invalid {name}: {value}"),
            Self::StepTooSmall { step, min_step } => {
                write!(f, "image step {step} is smaller than required {min_step}")
            }
            Self::ImageTooSmall { actual, required } => {
                write!(f, "image slice has {actual} bytes, requires {required}")
            }
            Self::ResultBufferTooSmall { actual, required } => {
                write!(f, "result buffer has {actual} bytes, requires {required}")
            }
        }
    }
}

impl std::error::Error for DetectError {}
