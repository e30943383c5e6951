"""Speech templates: ``templates/<name>.j2`` skeletons and their ``<name>.yaml`` metadata.

A template is found by name in the user's ``--templates`` folders first, then in the
shipped ``templates/`` folder. docs/templates.md explains both files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from speechgen.errors import TemplateError, bad_char, did_you_mean
from speechgen.paths import shipped
from speechgen.userfiles import MAX_TEMPLATE, check_file, display_path, load_yaml

#: How level-1 headings are numbered: 第一，… or 一、…
NUMBERING = ("第一，", "一、")
#: How sub-point leads are numbered: 一是…, （一）… or 1．…
SUBPOINT_STYLES = ("一是", "（一）", "1．")
META_KEYS = ("description", "meetings", "numbering", "subpoints", "salutation", "title", "required", "points")


@dataclass(frozen=True)
class Template:
    """A template: its Jinja source and what its metadata declares."""

    name: str
    path: Path
    source: str
    description: str = ""
    meetings: tuple[str, ...] = ()
    numbering: str = "第一，"
    subpoints: str = "一是"
    salutation: str = "同志们："
    title: str = "在{{ 市名 }}{{ meeting }}上的讲话"
    required: tuple[str, ...] = ()
    points: tuple[Any, ...] = ()  # default points for `brief init`, as brief items

    @property
    def shown(self) -> str:
        """The template file as the user should read it."""
        return display_path(self.path)


def inside(path: Path, roots: list[str]) -> None:
    """Fail unless *path*, links followed, lies in one of the folders *roots* (real paths)."""
    real = os.path.realpath(path)
    if not any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in roots):
        raise TemplateError(
            f"{display_path(path)}: links to a file outside the template folders — a template may only "
            "use files inside them; copy the file in instead"
        )


def template_dirs(extra: list[Path] | None = None) -> list[Path]:
    """Folders searched for templates: the user's first, then the shipped one."""
    return [*(extra or []), shipped("templates")]


def available(dirs: list[Path]) -> dict[str, Path]:
    """Template name → .j2 path; a name in an earlier folder hides the same name later."""
    found: dict[str, Path] = {}
    for d in dirs:
        if not d.is_dir():
            raise TemplateError(f"{display_path(d)}: template folder does not exist — check --templates")
        for p in sorted(d.glob("*.j2")):
            if not p.stem.startswith("_"):  # _points.j2 and the like are parts to include
                found.setdefault(p.stem, p)
    return found


def unknown_template(name: str, dirs: list[Path]) -> str:
    """The message for a template name that does not exist (without the file:line prefix)."""
    names = sorted(available(dirs))
    hint = did_you_mean(name, names)
    return f"unknown template '{name}'{hint} (templates: {', '.join(names) or 'none'})"


def load_template(name: str, dirs: list[Path]) -> Template:
    """The template called *name*, with its metadata checked.

    Raises:
        TemplateError: when it does not exist or its metadata is wrong.
    """
    path = available(dirs).get(name)
    if path is None:
        raise TemplateError(unknown_template(name, dirs))
    inside(path, [os.path.realpath(path.parent)])  # a link to /etc/passwd is no template
    check_file(path, "template", MAX_TEMPLATE, error=TemplateError)
    try:
        source = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise TemplateError(f"{display_path(path)}: not UTF-8 text — save the template as UTF-8") from None
    except OSError as exc:
        raise TemplateError(f"{display_path(path)}: cannot read the template ({exc.strerror})") from None
    meta_path = path.with_suffix(".yaml")
    meta: dict[str, Any] = {}
    if os.path.lexists(meta_path):
        inside(meta_path, [os.path.realpath(path.parent)])
        raw = load_yaml(meta_path, "template metadata file")
        if raw is not None and not isinstance(raw, dict):
            raise TemplateError(f"{display_path(meta_path)}: must be a mapping (numbering:, required:, …)")
        meta = raw or {}
    return Template(name=name, path=path, source=source, **_check_meta(meta, meta_path))


def _kind(value: Any) -> str:
    return "a list" if isinstance(value, list) else "a mapping"


def _check_meta(meta: dict[str, Any], path: Path) -> dict[str, Any]:
    shown = display_path(path)
    problems = []
    for key in meta:
        if key not in META_KEYS:
            hint = did_you_mean(str(key), META_KEYS) or f" — known keys: {', '.join(META_KEYS)}"
            problems.append(f"{shown}: unknown key '{key}'{hint}")
    out: dict[str, Any] = {}
    for key, choices in (("numbering", NUMBERING), ("subpoints", SUBPOINT_STYLES)):
        if key in meta:
            if isinstance(meta[key], (list, dict)):
                problems.append(f"{shown}: {key} must be one of {', '.join(choices)}, not {_kind(meta[key])}")
            elif meta[key] not in choices:
                problems.append(f"{shown}: {key} '{meta[key]}' is not one of {', '.join(choices)}")
            else:
                out[key] = meta[key]
    for key in ("description", "salutation", "title"):
        if key in meta:
            if isinstance(meta[key], (list, dict)):
                problems.append(f"{shown}: {key} must be text, not {_kind(meta[key])} — write it as {key}: … on one line")
            elif bad_char(str(meta[key] or "")):
                problems.append(f"{shown}: {key} {bad_char(str(meta[key]))}")
            else:
                out[key] = str(meta[key] or "")
    if "title" in out:
        from speechgen.library.textcheck import jinja_names

        found = jinja_names(out["title"], "a title")[1]  # a syntax error is reported where it is used
        problems += [f"{shown}: title: {p}" for p in found if not p.startswith("Jinja syntax error")]
    for key in ("meetings", "required", "points"):
        value = meta.get(key)
        if value is None:
            continue
        if not isinstance(value, list):
            problems.append(f"{shown}: {key} must be a list — write it as {key}: [a, b]")
            continue
        if key != "points" and any(isinstance(v, (list, dict)) for v in value):
            problems.append(f"{shown}: {key} must be a list of words — write it as {key}: [a, b]")
            continue
        out[key] = tuple(value) if key == "points" else tuple(str(v) for v in value)
    if problems:
        if len(problems) == 1:
            raise TemplateError(problems[0])
        raise TemplateError(f"{len(problems)} errors in {shown}:", problems)
    return out
