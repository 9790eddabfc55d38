"""[[user]] and [[group]]: the accounts a package creates on install; [[tmpfile]], the other host file applied at install."""

from __future__ import annotations

from typing import Any

from ..model import GroupSpec, TmpfileSpec, UserSpec
from .fields import BAD, FieldReader, _Src
from .grammar import ID_RANGE, TMPFILE_NAME_RE
from .tomlpos import KeyPath, format_path


class AccountsReader(FieldReader):
    def tmpfile(self, f: dict[str, _Src], path: KeyPath) -> TmpfileSpec | None:
        src = self.required(f, "src", path, self.path_text)
        hint = "a file name ending in .conf (give name = ... when src is named otherwise)"
        name = self.optional(
            f, "name", lambda s: self.matching(s, TMPFILE_NAME_RE, "bad-value", "a tmpfiles.d name", hint), None
        )
        if name is None and src is not BAD:
            base = _Src(src.rsplit("/", 1)[-1], (*path, "src"))
            name = self.matching(base, TMPFILE_NAME_RE, "bad-value", "a tmpfiles.d name", hint)
        if BAD in (src, name):
            return None
        return TmpfileSpec(name=name, src=src, loc=self.loc(path))

    def account_id(self, src: _Src) -> Any:
        value = self.integer(src)
        if value is BAD:
            return BAD
        if value not in ID_RANGE:
            return self.err(
                "bad-value",
                src.path,
                f"{format_path(src.path)} {value} is not a fixed id a package may take",
                "use 1..65533",
            )
        return value

    def absolute(self, src: _Src) -> Any:
        value = self.text(src)
        if value is not BAD and not value.startswith("/"):
            return self.err("bad-value", src.path, f"{format_path(src.path)} {value!r} is not an absolute path")
        if value is not BAD and ":" in value:  # home and shell are passwd fields, as the comment is
            return self.err("bad-value", src.path, f"{format_path(src.path)} must not hold ':' (passwd fields)")
        return value

    def user(self, f: dict[str, _Src], path: KeyPath) -> UserSpec | None:
        name = self.required(f, "name", path, self.owner)
        spec = dict(
            uid=self.optional(f, "uid", self.account_id, None),
            group=self.optional(f, "group", self.owner, ""),
            groups=tuple(self.optional(f, "groups", lambda s: self.string_list(s, self.owner), ())),
            home=self.optional(f, "home", self.absolute, "/"),
            shell=self.optional(f, "shell", self.absolute, "/usr/sbin/nologin"),
            system=self.optional(f, "system", self.boolean, True),
            comment=self.optional(f, "comment", self.comment, ""),
        )
        if name is BAD:
            return None
        return UserSpec(name=name, loc=self.loc(path), **spec)

    def comment(self, src: _Src) -> Any:
        value = self.text(src)
        if value is not BAD and (":" in value or "\\" in value):
            return self.err("bad-value", src.path, f"{format_path(src.path)} must not hold ':' or '\\' (passwd fields)")
        return value

    def group(self, f: dict[str, _Src], path: KeyPath) -> GroupSpec | None:
        name = self.required(f, "name", path, self.owner)
        gid = self.optional(f, "gid", self.account_id, None)
        system = self.optional(f, "system", self.boolean, True)
        if name is BAD:
            return None
        return GroupSpec(name=name, gid=gid, system=system, loc=self.loc(path))
