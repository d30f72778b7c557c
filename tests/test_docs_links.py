"""Every relative link in README.md and docs/ points to a file that exists and, with a #fragment, to a heading of
that file (GitHub's anchor rule); the README stays short enough to read on one screen or two."""

import pathlib
import re

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
README_MAX_LINES = 180


def anchors(path):
    """GitHub's heading anchors of a Markdown file: lower case, punctuation dropped, spaces to hyphens, repeats
    numbered; headings inside fenced code blocks do not count."""
    seen, out, fenced = {}, set(), False
    for line in path.read_text().splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        match = None if fenced else HEADING.match(line)
        if not match:
            continue
        slug = re.sub(r"[^\w\- ]", "", match.group(2).strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        out.add(slug if count == 0 else f"{slug}-{count}")
    return out


def relative_links(page):
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)  # links in code blocks are not links
    for match in LINK.finditer(text):
        target = match.group(1) or match.group(2)
        if not re.match(r"^[a-z]+:", target):  # http:, https:, mailto: ...
            yield target


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_resolve(page):
    broken = []
    for target in relative_links(page):
        file_part, _, fragment = target.partition("#")
        path = (page.parent / file_part).resolve() if file_part else page
        if not path.exists():
            broken.append(f"{target}: no file {path.relative_to(REPO) if REPO in path.parents else path}")
        elif fragment and path.suffix == ".md" and fragment not in anchors(path):
            broken.append(f"{target}: no heading #{fragment} in {path.relative_to(REPO)}")
    assert not broken, "\n".join(broken)


def test_anchor_rule_on_known_headings(tmp_path):
    page = tmp_path / "x.md"
    page.write_text("## People at any orientation (`orientation=any`)\n### A teacher: `train.teacher`\n"
                    "```\n# not a heading\n```\n## Options\n## Options\n")
    assert anchors(page) == {"people-at-any-orientation-orientationany", "a-teacher-trainteacher", "options",
                             "options-1"}


def test_readme_is_short():
    assert len((REPO / "README.md").read_text().splitlines()) <= README_MAX_LINES
