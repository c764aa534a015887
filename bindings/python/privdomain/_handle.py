"""The life cycle every opaque handle shares: close(), context manager,
release when garbage collected, Misuse once closed."""

from . import errors


class _Handle:
    """Common life cycle of the opaque handles: close(), context manager,
    released when garbage collected."""

    _free = None
    _what = "handle"

    def close(self):
        """Release the handle (idempotent)."""
        h, self._h = getattr(self, "_h", None), None
        if h:
            type(self)._free(h)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    @property
    def closed(self):
        return not self._h

    def _handle(self):
        if not self._h:
            raise errors.Misuse(f"the {self._what} is closed")
        return self._h

    def errmsg(self):
        """The message of the last failed call on this handle."""
        if not self._h:
            return ""
        return type(self)._errmsg(self._h).decode("utf-8", "replace")

    def _check(self, status):
        return errors.check(status, self.errmsg)
