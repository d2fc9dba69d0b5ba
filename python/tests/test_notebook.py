"""examples/filter_notebook.ipynb runs from top to bottom without an error (headless, with
nbclient, in a kernel of this Python)."""

import nbclient
import nbformat

from conftest import EXAMPLES


def test_the_filter_notebook_runs_without_errors():
    notebook = nbformat.read(EXAMPLES / "filter_notebook.ipynb", as_version=4)
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(EXAMPLES)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "the plot was drawn"
    assert any("8 Hz:" in o.get("text", "") for o in outputs)
