//! Core errors as the exceptions of `scpool._errors` (defined in Python, so they can
//! also derive from ValueError, OSError and TimeoutError).

use pyo3::call::PyCallArgs;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;
use scpool_core::Error;

/// The exception class `scpool._errors.<name>`.
fn class<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyType>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    let module =
        MODULE.get_or_try_init(py, || PyResult::Ok(py.import("scpool._errors")?.unbind()))?;
    Ok(module.bind(py).getattr(name)?.cast_into::<PyType>()?)
}

/// Raises `scpool.<name>(*args)`; a RuntimeError if the package itself is broken.
pub fn raise<'py, A>(py: Python<'py>, name: &str, args: A) -> PyErr
where
    A: PyCallArgs<'py>,
{
    match class(py, name).and_then(|cls| cls.call1(args)) {
        Ok(exception) => PyErr::from_value(exception),
        Err(e) => PyRuntimeError::new_err(format!("scpool's exception {name} is missing: {e}")),
    }
}

/// The exception for a core error.
pub fn to_py(py: Python<'_>, error: Error) -> PyErr {
    let text = error.to_string();
    match error {
        Error::InvalidArgument(_) => raise(py, "InvalidArgument", (text,)),
        Error::Unsupported(_) => raise(py, "UnsupportedError", (text,)),
        Error::Open { path, errno, .. } => raise(py, "OpenError", (errno, text, path)),
        Error::NotRegularFile { ref path, .. } => raise(
            py,
            "NotRegularFileError",
            (error.errno(), text, path.clone()),
        ),
        Error::FileTooLarge { ref path, .. } => {
            raise(py, "FileTooLargeError", (error.errno(), text, path.clone()))
        }
        Error::Setup(_) => raise(py, "SetupError", (text,)),
        Error::ContainerBroken(_) => raise(py, "ContainerBroken", (text,)),
        Error::AcquireTimeout(_) => raise(py, "AcquireTimeout", (text,)),
        Error::PoolClosed => raise(py, "PoolClosed", (text,)),
        // The Python API has no cancel token (a thread waits in acquire with the GIL
        // released); kept general should one appear.
        Error::AcquireCancelled => raise(py, "Error", (text,)),
        // No errno (an error the core made itself): None, as OSError has then.
        Error::Io { .. } => {
            let errno = Some(error.errno()).filter(|e| *e != 0);
            raise(py, "HostError", (errno, text))
        }
        // A kind newer than this binding: the base class, with the message.
        _ => raise(py, "Error", (text,)),
    }
}

/// `Result<T, Error>` into `PyResult<T>`.
pub trait IntoPyResult<T> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for Result<T, Error> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py(py, e))
    }
}
