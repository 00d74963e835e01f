"""Progress bars: tqdm, shown only when a caller passes ``verbose=True``."""

__all__ = ["progress_bar", "STAGES"]

#: options of a bar over the stages of one call (a count of stages, no rate): the
#: postfix names the stage running
STAGES = {"unit": "stage", "bar_format": "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]"}


def progress_bar(verbose, iterable=None, **kwargs):
    """A ``tqdm.auto`` bar (a widget in Jupyter, text on stderr elsewhere), disabled
    unless ``verbose``.

    ``verbose=True`` leaves ``disable`` to tqdm's own default instead of passing
    ``disable=False``, which would override the environment: TQDM_DISABLE=1 (and any
    other TQDM_* setting) still applies. Use the bar as a context manager, so that it is
    closed when the call raises.
    """
    from tqdm.auto import tqdm

    if not verbose:
        kwargs["disable"] = True
    return tqdm(iterable, **kwargs)
