"""The autograded assignments of ``assignments/`` (otter-grader), graded offline.

Each source notebook is turned by ``otter assign`` (as ``make assignments`` does)
into a student version and an autograder zip, once per session.  Then, without
containers (``otter.api.grade_submission``, the engine of ``otter run``):

- the solution notebook scores 100 %;
- a deliberately wrong submission, the solution with the substitutions of
  ``WRONG``, loses points on exactly the questions listed there, at least one
  of them through hidden tests only;
- the student version holds no solution line and no hidden test.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from otter.api import grade_submission
from otter.assign import main as assign

# otter 7.0.0's own deprecation warning, once per graded notebook
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.drop")

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "assignments").glob("*.ipynb"))
NAMES = [path.stem for path in SOURCES]

#: For each assignment: substitutions that turn the solution into a plausible wrong
#: submission, and the questions that must lose points (all others keep full marks).
WRONG: dict[str, tuple[list[tuple[str, str]], list[str]]] = {
    "minibatch_covariance": (
        [("(n - b) / (b * (n - 1))", "(1 - b / n) / b"),  # the paper's printed factor
         ("    if replacement:\n        idx = rng.integers",  # always samples with replacement
          "    if True:\n        idx = rng.integers")],
        ["q2", "q3"],
    ),
    "ornstein_uhlenbeck": (
        [("2.0 * beta_inv * dt * (1.0 - a2**n_steps) / (1.0 - a2)",  # continuous-time variance
          "beta_inv / theta * (1.0 - np.exp(-2.0 * theta * dt * n_steps))"),
         ("beta_inv=beta_inv, record_every",  # beta^-1 taken for the noise's standard deviation
          "beta_inv=np.sqrt(beta_inv), record_every")],
        ["q1", "q2"],
    ),
    "fokker_planck_1d": (
        [("grid.volume / beta)", "grid.volume)")],  # drops the 1/beta of eq. (10)
        ["q3"],  # the public test runs at beta = 1, the hidden one does not
    ),
    "double_well_critical": (
        [("rotating = bool(np.any(np.abs(ev.imag) > tol))", "rotating = False")],  # no spirals
        ["q2", "q3"],  # q3 classifies its zeros with classify: the centre at lambda = 1.2
    ),
    "diffusion_rank": (
        [("g.T @ g / len(g) - np.outer(mean, mean)", "g.T @ g / len(g)"),  # not centred
         ("min(n_examples - 1, n_params)", "min(n_examples, n_params)")],
        ["q2", "q4"],
    ),
}


@dataclass(frozen=True)
class Built:
    """The output of ``otter assign`` for one assignment."""

    source: Path
    solution: Path
    student: Path
    autograder: Path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    out = tmp_path_factory.mktemp("assignments")
    result = {}
    for src in SOURCES:
        dest = out / src.stem
        assign(str(src), str(dest), no_pdfs=True, no_run_tests=True)  # make assignments's step
        (zip_path,) = (dest / "autograder").glob(f"{src.stem}-autograder_*.zip")
        result[src.stem] = Built(src, dest / "autograder" / src.name,
                                 dest / "student" / src.name, zip_path)
    return result


def grade(notebook: Path, autograder: Path) -> dict[str, tuple[float, float, bool]]:
    """Grade one submission without containers.

    Returns question -> (score, possible, whether its public tests passed).
    """
    results = grade_submission(str(notebook), str(autograder), quiet=True)
    assert results.catastrophic_error is None, results.catastrophic_error
    return {q: (results.get_score(q), results.get_result(q).possible,
                results.get_result(q).passed_all_public) for q in results.test_files}


def test_every_assignment_has_a_wrong_submission():
    assert len(NAMES) >= 5
    assert sorted(WRONG) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_solution_scores_full_marks(built: dict[str, Built], name: str):
    scores = grade(built[name].solution, built[name].autograder)
    assert len(scores) >= 3
    for question, (score, possible, _) in scores.items():
        assert possible > 0 and score == possible, (question, score, possible)


@pytest.mark.parametrize("name", NAMES)
def test_wrong_submission_loses_points_where_wrong(built: dict[str, Built], name: str,
                                                   tmp_path: Path):
    substitutions, should_lose = WRONG[name]
    nb = nbformat.read(built[name].solution, as_version=4)
    for right, wrong in substitutions:
        hits = [cell for cell in nb.cells if cell.cell_type == "code" and right in cell.source]
        assert len(hits) == 1 and hits[0].source.count(right) == 1, right
        hits[0].source = hits[0].source.replace(right, wrong)
    submission = tmp_path / built[name].solution.name
    nbformat.write(nb, submission)
    scores = grade(submission, built[name].autograder)
    lost = sorted(q for q, (score, possible, _) in scores.items() if score < possible)
    assert lost == should_lose, scores
    # at least one mistake passes the public tests: only a hidden test catches it
    assert any(scores[q][2] for q in lost), scores


def _source_lines(source: Path) -> tuple[set[str], set[str], set[str]]:
    """Stripped lines of solution code, of hidden tests, and of the rest of a source notebook."""
    solution, hidden, rest = set(), set(), set()
    in_solution = False               # between the raw cells BEGIN SOLUTION and END SOLUTION
    for cell in nbformat.read(source, as_version=4).cells:
        text = cell.source.strip()
        if cell.cell_type == "raw":
            in_solution = {"# BEGIN SOLUTION": True, "# END SOLUTION": False}.get(text,
                                                                                  in_solution)
            continue
        lines = [line.strip() for line in cell.source.splitlines() if line.strip()]
        if cell.cell_type == "code" and text.startswith("# HIDDEN"):
            hidden.update(lines[1:])
        elif cell.cell_type == "code" and in_solution:
            block = False             # between the comments BEGIN SOLUTION and END SOLUTION
            for line in lines:
                if line in ("# BEGIN SOLUTION", "# END SOLUTION"):
                    block = line == "# BEGIN SOLUTION"
                (solution if block or line.endswith("# SOLUTION") else rest).add(line)
        else:
            rest.update(lines)
    return solution - rest, hidden - rest, rest


@pytest.mark.parametrize("name", NAMES)
def test_student_version_has_no_solutions_and_no_hidden_tests(built: dict[str, Built],
                                                              name: str):
    solution, hidden, _ = _source_lines(built[name].source)
    hidden_names = {m for line in hidden for m in re.findall(r"def (test_\w+)", line)}
    assert solution and hidden_names
    # what students get: the notebook and its public tests, tests/*.py
    handout = [p for p in built[name].student.parent.rglob("*") if p.is_file()]
    assert len(handout) > 1
    texts = [p.read_text() for p in handout]
    lines = {line.strip() for text in texts for line in text.splitlines()}
    for cell in nbformat.read(built[name].student, as_version=4).cells:
        lines.update(line.strip() for line in cell.source.splitlines())
    assert not solution & lines
    assert not hidden & lines
    assert not any(n in text for n in hidden_names for text in texts)
    with zipfile.ZipFile(built[name].autograder) as zf:   # the autograder has them
        graded = "".join(zf.read(f).decode() for f in zf.namelist() if f.startswith("tests/"))
    assert all(n in graded for n in hidden_names)
