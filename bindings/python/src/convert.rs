//! Python values into the core's types, with TypeError for the wrong kind of value
//! and ValueError for a value out of range (never a panic).

use crate::errors;
use pyo3::exceptions::{PyOverflowError, PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBool, PyBytes, PyInt, PyString};
use std::ffi::OsString;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::time::Duration;

/// A str (encoded like `os.fsencode`), bytes, or path-like object.
pub fn os_string(value: &Bound<'_, PyAny>, what: &str) -> PyResult<OsString> {
    if let Ok(bytes) = value.cast::<PyBytes>() {
        return Ok(OsString::from_vec(bytes.as_bytes().to_vec()));
    }
    if value.is_instance_of::<PyString>() {
        return value.extract::<OsString>();
    }
    let py = value.py();
    match py.import("os")?.call_method1("fspath", (value,)) {
        Ok(path) if path.is_instance_of::<PyString>() || path.is_instance_of::<PyBytes>() => {
            os_string(&path, what)
        }
        _ => Err(PyTypeError::new_err(format!(
            "{what} must be str, bytes or a path, not {}",
            type_name(value)
        ))),
    }
}

/// A sequence of strings (a lone str or bytes is refused: it is almost always a
/// forgotten list).
pub fn os_strings(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<OsString>> {
    if value.is_instance_of::<PyString>() || value.is_instance_of::<PyBytes>() {
        return Err(PyTypeError::new_err(format!(
            "{what} must be a list of strings, not a single {}",
            type_name(value)
        )));
    }
    let items = value.try_iter().map_err(|_| {
        PyTypeError::new_err(format!(
            "{what} must be a list of strings, not {}",
            type_name(value)
        ))
    })?;
    items
        .enumerate()
        .map(|(i, item)| os_string(&item?, &format!("{what}[{i}]")))
        .collect()
}

/// `value` as a float like `float(value)`: an int too large for a float is a bad
/// value (ValueError), anything that is not a number a bad type (TypeError).
fn to_f64(value: &Bound<'_, PyAny>, what: &str, kind: &str) -> PyResult<f64> {
    value.extract::<f64>().map_err(|e| {
        if e.is_instance_of::<PyOverflowError>(value.py()) {
            PyValueError::new_err(format!("{what} is too large: {value}"))
        } else {
            PyTypeError::new_err(format!("{what} must be a {kind}, not {}", type_name(value)))
        }
    })
}

/// Seconds (int or float) as a duration; `None` stays `None`.
pub fn seconds(value: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<Duration>> {
    let Some(secs) = number(value, what, "number of seconds")? else {
        return Ok(None);
    };
    Duration::try_from_secs_f64(secs).map(Some).map_err(|_| {
        PyValueError::new_err(format!(
            "{what} must be a finite, non-negative number of seconds, not {secs}"
        ))
    })
}

/// A non-negative int: an int or any object with `__index__` (a numpy integer, as
/// `operator.index` takes it); `None` stays `None`. A bool is refused (TypeError)
/// although it is an int: `memory_limit=True` is a mistake, not 1 byte.
pub fn count(value: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<u64>> {
    let Some(value) = value.filter(|v| !v.is_none()) else {
        return Ok(None);
    };
    let wrong_type =
        || PyTypeError::new_err(format!("{what} must be an int, not {}", type_name(value)));
    if value.is_instance_of::<PyBool>() {
        return Err(wrong_type());
    }
    let index = if value.is_instance_of::<PyInt>() {
        value.clone()
    } else {
        // SAFETY: PyNumber_Index takes a valid object (borrowed) and returns a new
        // reference, or NULL with an exception set.
        unsafe { Bound::from_owned_ptr_or_err(value.py(), ffi::PyNumber_Index(value.as_ptr())) }
            .map_err(|_| wrong_type())?
    };
    index.extract::<u64>().map(Some).map_err(|_| {
        PyValueError::new_err(format!(
            "{what} must be a non-negative int below 2**64, not {index}"
        ))
    })
}

/// Like [`count`], for values that must fit 32 bits.
pub fn count_u32(value: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<u32>> {
    count(value, what)?
        .map(|n| {
            u32::try_from(n)
                .map_err(|_| PyValueError::new_err(format!("{what} must be below 2**32, not {n}")))
        })
        .transpose()
}

/// A float; `None` stays `None`.
pub fn float(value: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<f64>> {
    number(value, what, "number")
}

/// An int or float as f64 (`kind` names it in errors); `None` stays `None`, a bool
/// is refused.
fn number(value: Option<&Bound<'_, PyAny>>, what: &str, kind: &str) -> PyResult<Option<f64>> {
    let Some(value) = value.filter(|v| !v.is_none()) else {
        return Ok(None);
    };
    if value.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!(
            "{what} must be a {kind}, not bool"
        )));
    }
    to_f64(value, what, kind).map(Some)
}

/// A bool; `None` stays `None`.
pub fn flag(value: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<bool>> {
    let Some(value) = value.filter(|v| !v.is_none()) else {
        return Ok(None);
    };
    value.extract::<bool>().map(Some).map_err(|_| {
        PyTypeError::new_err(format!("{what} must be a bool, not {}", type_name(value)))
    })
}

/// bytes or bytearray (a str is refused: its encoding would be a guess).
pub fn bytes(value: &Bound<'_, PyAny>, what: &str) -> PyResult<PyBackedBytes> {
    value.extract::<PyBackedBytes>().map_err(|_| {
        PyTypeError::new_err(format!(
            "{what} must be bytes or bytearray, not {}",
            type_name(value)
        ))
    })
}

/// A descriptor (an int, or an object with `fileno()`), duplicated so that it stays
/// valid for the whole call whatever other threads do with the original.
pub fn dup_fd(value: &Bound<'_, PyAny>, what: &str) -> PyResult<OwnedFd> {
    let raw = if value.is_instance_of::<PyInt>() && !value.is_instance_of::<PyBool>() {
        value.extract::<i64>().ok()
    } else if value.hasattr("fileno")? {
        value.call_method0("fileno")?.extract::<i64>().ok()
    } else {
        return Err(PyTypeError::new_err(format!(
            "{what} must be a descriptor (int) or a file object, not {}",
            type_name(value)
        )));
    };
    let raw = raw
        .and_then(|n| i32::try_from(n).ok())
        .filter(|n| *n >= 0)
        .ok_or_else(|| {
            PyValueError::new_err(format!("{what} is not a valid descriptor: {value}"))
        })?;
    // SAFETY: fcntl(F_DUPFD_CLOEXEC) only reads the descriptor number; an invalid one
    // makes it fail with EBADF and has no other effect.
    let copy = unsafe { libc::fcntl(raw, libc::F_DUPFD_CLOEXEC, 0) };
    if copy < 0 {
        let error = std::io::Error::last_os_error();
        return Err(errors::raise(
            value.py(),
            "InvalidArgument",
            (format!("{what}: descriptor {raw} cannot be used: {error}"),),
        ));
    }
    // SAFETY: `copy` is a descriptor fcntl just created for us; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(copy) })
}

pub fn type_name(value: &Bound<'_, PyAny>) -> String {
    value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}
