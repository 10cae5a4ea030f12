"""vkmm's exceptions: one class per vkmm_status of the C library, each carrying the library's message (which
names the file and the problem). Arguments of the wrong type or value are refused in Python first, with
TypeError / ValueError, before anything reaches the library."""


class Error(Exception):
    """Base of every error the vkmm library reports. ``status`` is the C library's status name."""

    status = "error"

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class InvalidArgumentError(Error, ValueError):
    """The library was handed something unusable (VKMM_ERR_INVALID_ARG), e.g. a prompt longer than the context."""
    status = "invalid argument"


class FileError(Error, OSError):
    """A file could not be opened, read or written (VKMM_ERR_IO)."""
    status = "i/o error"


class FormatError(Error):
    """A file is corrupt or not what it claims to be (VKMM_ERR_FORMAT): not a GGUF, a broken image, ..."""
    status = "bad format"


class UnsupportedError(Error):
    """Valid input that vkmm does not handle (VKMM_ERR_UNSUPPORTED): an architecture, an image too large, ..."""
    status = "unsupported"


class NoDeviceError(Error):
    """No usable Vulkan device (VKMM_ERR_NO_DEVICE)."""
    status = "no device"


class OutOfMemoryError(Error):
    """Device memory, or the configured budget (VKMM_MEMORY_BUDGET, memory_budget=), is exhausted
    (VKMM_ERR_OUT_OF_MEMORY). The message names the sizes."""
    status = "out of device memory"


class HostMemoryError(Error, MemoryError):
    """A host allocation failed (VKMM_ERR_HOST_MEMORY)."""
    status = "out of host memory"


class DeviceLostError(Error):
    """The GPU was lost (VKMM_ERR_DEVICE_LOST): this model is unusable, the process is not; load it again."""
    status = "device lost"


class VulkanError(Error):
    """Any other Vulkan failure (VKMM_ERR_VULKAN)."""
    status = "vulkan error"


class InternalError(Error):
    """A bug in vkmm (VKMM_ERR_INTERNAL); please report it with the message."""
    status = "internal error"


class ModelNotFoundError(Error, LookupError):
    """A model name is unknown, or the files its manifest names are not on this machine (VKMM_ERR_NOT_FOUND).
    The message lists the known names, or says what to download, from where, and where to put it."""
    status = "not found"


# index = the C enum's value
_BY_CODE = [None, InvalidArgumentError, FileError, FormatError, UnsupportedError, NoDeviceError, OutOfMemoryError,
            HostMemoryError, DeviceLostError, VulkanError, InternalError, ModelNotFoundError]


def from_status(code, message):
    """The exception for a vkmm_status and its message."""
    cls = _BY_CODE[code] if 0 < code < len(_BY_CODE) else Error
    return cls(message or cls.status)
