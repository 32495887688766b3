"""The two ways a command ends short of its work."""


class UserError(Exception):
    """Bad input or environment: reported as one line, exit status 2."""


class Miss(Exception):
    """A kernel gave no results (could not be had, did not boot, panicked,
    hung): reported as `miss` with the reason and its log; the other
    kernels' results are kept."""

    def __init__(self, reason, log=None, early=False):
        super().__init__(reason)
        # early: the kernel died before the cases started (worth a retry);
        # retries: the failed attempts before this one, for the kernel entry.
        self.reason, self.log, self.early, self.retries = reason, log, early, []
