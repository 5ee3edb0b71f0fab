//! Why a ticket text could not be decoded.

use super::base45::Base45Error;
use super::text::{MAX_INPUT_LEN, PREFIX};
use thiserror::Error;

/// A ticket text that is not a well-formed Voelgoed ticket. Decoding never trusts a field: this
/// error says only that the bytes do not have the v1 shape. Signature problems are reported by
/// the validator, after decoding.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// Refused before any decoding, so a hostile scanner cannot make the gate do work.
    #[error("input is {len} bytes long; a ticket is at most {MAX_INPUT_LEN}")]
    TooLong {
        /// Length of the input as received.
        len: usize,
    },
    /// Nothing but whitespace was scanned.
    #[error("input is empty")]
    Empty,
    /// The text does not start with the ticket prefix: a QR code of something else.
    #[error("not a Voelgoed ticket: it does not start with \"{PREFIX}\"")]
    MissingPrefix,
    /// The part after the prefix is not canonical base45.
    #[error("{}", describe_base45(*.0))]
    Base45(Base45Error),
    /// A format version this build does not know.
    #[error("ticket format version {0} is not supported (this device reads version 1)")]
    UnsupportedVersion(u8),
    /// Flag bits that v1 does not define are set.
    #[error("unknown flag bits {0:#04x} are set")]
    UnknownFlags(u8),
    /// The bytes end inside a field.
    #[error("ticket is truncated: it ends inside the {field}")]
    Truncated {
        /// The field that is cut short.
        field: &'static str,
    },
    /// Bytes follow the signature.
    #[error("{count} unexpected byte(s) after the signature")]
    TrailingBytes {
        /// How many bytes follow the signature.
        count: usize,
    },
    /// The validity window ends before it starts.
    #[error("validity window ends before it starts")]
    InvalidValidityWindow,
    /// A delegation must name between 1 and 4 ticket types.
    #[error("delegation names {count} ticket types; it must name 1 to 4")]
    InvalidDelegationTypeCount {
        /// The count found.
        count: u8,
    },
    /// A delegation's serial range ends before it starts.
    #[error("delegation serial range ends before it starts")]
    InvalidDelegationRange,
}

fn describe_base45(e: Base45Error) -> String {
    // Positions are reported within the whole (trimmed) text, prefix included, so they match
    // what a person sees when reading the code.
    let offset = PREFIX.len();
    match e {
        Base45Error::InvalidChar { position } => {
            format!("character {} is not one of the 45 characters a ticket uses", position + offset + 1)
        }
        Base45Error::InvalidLength => "ticket text has an impossible length (cut short?)".into(),
        Base45Error::ValueOutOfRange { position } => {
            format!("the characters from position {} on do not encode a valid value", position + offset + 1)
        }
    }
}

impl DecodeError {
    /// A stable machine-readable code for logs, test vectors and the API.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLong { .. } => "too_long",
            Self::Empty => "empty",
            Self::MissingPrefix => "missing_prefix",
            Self::Base45(Base45Error::InvalidChar { .. }) => "base45_invalid_char",
            Self::Base45(Base45Error::InvalidLength) => "base45_invalid_length",
            Self::Base45(Base45Error::ValueOutOfRange { .. }) => "base45_value_out_of_range",
            Self::UnsupportedVersion(_) => "unsupported_version",
            Self::UnknownFlags(_) => "unknown_flags",
            Self::Truncated { .. } => "truncated",
            Self::TrailingBytes { .. } => "trailing_bytes",
            Self::InvalidValidityWindow => "invalid_validity_window",
            Self::InvalidDelegationTypeCount { .. } => "invalid_delegation_type_count",
            Self::InvalidDelegationRange => "invalid_delegation_range",
        }
    }
}
