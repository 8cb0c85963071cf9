//! `emotion._emotion`: the native half of the `emotion` Python package.
//!
//! A thin layer over `emotion-core`: it turns numpy arrays and PIL images into
//! [`ImageView`]s, runs the core with the GIL released, and turns the results into small
//! read-only Python objects. No image or model logic lives here.
//!
//! Memory safety of borrowed pixels while the GIL is released:
//! - numpy arrays whose rows are packed (pixels and channels contiguous, positive row stride)
//!   are borrowed, not copied: a `PyReadonlyArray` keeps a strong reference to the array (so it
//!   cannot be freed) and numpy-crate's shared borrow (so no Rust code can borrow it mutably)
//!   for the whole call. Python code in another thread can still write into the array while
//!   the call runs, exactly as with numpy's own GIL-releasing functions: the result then reflects
//!   a half-written image (the core only reads bytes). Don't do that.
//! - other layouts (negative or zero strides, channel-reversed views, ...) are copied into a
//!   packed buffer first.
//! - PIL images are converted with `Image.tobytes()`, an immutable `bytes` object we hold.

mod analyzer;
mod errors;
mod functions;
mod image;
mod options;
mod results;
mod tracker;

use emotion_core::Expression;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use analyzer::Analyzer;
use results::{BBox, Detection, Face, ModelInfo};
use tracker::{TrackedFace, Tracker};

#[pymodule]
fn _emotion(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("EXPRESSIONS", PyTuple::new(m.py(), Expression::ALL.map(Expression::name))?)?;
    m.add_class::<Analyzer>()?;
    m.add_class::<BBox>()?;
    m.add_class::<Detection>()?;
    m.add_class::<Face>()?;
    m.add_class::<Tracker>()?;
    m.add_class::<TrackedFace>()?;
    m.add_class::<ModelInfo>()?;
    m.add_function(wrap_pyfunction!(functions::load_image, m)?)?;
    m.add_function(wrap_pyfunction!(functions::draw, m)?)?;
    for class in errors::ALL {
        m.add(class.name, class.get(m.py())?)?;
    }
    Ok(())
}
