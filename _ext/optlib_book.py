"""Sphinx extension of the book (listed in _config.yml under sphinx.local_extensions).

While the book is built, the notebooks' kernels inherit this process's
environment. Setting OPTLIB_STATIC_EXPLORATIONS=1 makes every exploration
display only its self-contained static HTML: no kernel will ever drive a widget
in the built book, and a widget would only add its state (and the CDN scripts
that myst-nb loads for widget state) to the page.
"""

import os

from optlib.explore import STATIC_ONLY_ENV


def setup(app):
    os.environ[STATIC_ONLY_ENV] = "1"
    return {"parallel_read_safe": True, "parallel_write_safe": True}
