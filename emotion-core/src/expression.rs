//! The eight expression classes, in AffectNet order (Mollahosseini et al., "AffectNet: A
//! Database for Facial Expression, Valence, and Arousal Computing in the Wild", 2017).

/// Number of expression classes the model predicts.
pub const EXPRESSION_COUNT: usize = 8;

/// A facial expression class. The discriminant is the index in the model's `expression` output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Expression {
    Neutral = 0,
    Happy = 1,
    Sad = 2,
    Surprise = 3,
    Fear = 4,
    Disgust = 5,
    Anger = 6,
    Contempt = 7,
}

impl Expression {
    /// All classes, in AffectNet (model output) order.
    pub const ALL: [Expression; EXPRESSION_COUNT] = [
        Expression::Neutral,
        Expression::Happy,
        Expression::Sad,
        Expression::Surprise,
        Expression::Fear,
        Expression::Disgust,
        Expression::Anger,
        Expression::Contempt,
    ];

    /// Lower-case English name: `neutral`, `happy`, `sad`, `surprise`, `fear`, `disgust`,
    /// `anger`, `contempt`.
    pub const fn name(self) -> &'static str {
        match self {
            Expression::Neutral => "neutral",
            Expression::Happy => "happy",
            Expression::Sad => "sad",
            Expression::Surprise => "surprise",
            Expression::Fear => "fear",
            Expression::Disgust => "disgust",
            Expression::Anger => "anger",
            Expression::Contempt => "contempt",
        }
    }

    /// The class at `index` in AffectNet order, `None` when `index >= 8`.
    pub fn from_index(index: usize) -> Option<Expression> {
        Self::ALL.get(index).copied()
    }

    /// The class with the highest probability (the first one on ties); `probabilities` in
    /// AffectNet order.
    pub fn argmax(probabilities: &[f32; EXPRESSION_COUNT]) -> Expression {
        let mut best = 0;
        for (i, p) in probabilities.iter().enumerate() {
            if *p > probabilities[best] {
                best = i;
            }
        }
        Self::ALL[best]
    }
}

impl std::fmt::Display for Expression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Expression {
    type Err = ();
    /// Parses a [`Expression::name`].
    fn from_str(s: &str) -> Result<Self, ()> {
        Self::ALL.into_iter().find(|e| e.name() == s).ok_or(())
    }
}
