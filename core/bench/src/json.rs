//! The bench's JSON line: figures with a fixed number of decimals (serde_json
//! alone would print the shortest form of an f64).

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

/// A number printed with `DECIMALS` digits after the point; `null` if not finite.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fixed<const DECIMALS: usize>(pub f64);

impl<const DECIMALS: usize> Serialize for Fixed<DECIMALS> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if !self.0.is_finite() {
            return serializer.serialize_none();
        }
        RawValue::from_string(format!("{:.*}", DECIMALS, self.0))
            .map_err(serde::ser::Error::custom)?
            .serialize(serializer)
    }
}

/// `value` as one line of JSON.
pub fn to_line<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("the bench's JSON has only numbers and names")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Sample {
        one: Fixed<1>,
        three: Fixed<3>,
        whole: Fixed<0>,
        nan: Fixed<2>,
    }

    #[test]
    fn numbers_keep_their_decimals() {
        let json = to_line(&Sample {
            one: Fixed(612.0),
            three: Fixed(1.23456),
            whole: Fixed(2499.6),
            nan: Fixed(f64::NAN),
        });
        assert_eq!(
            json,
            r#"{"one":612.0,"three":1.235,"whole":2500,"nan":null}"#
        );
    }
}
