#!/bin/sh
# date +%s, %(touch pkgtool-pwned-41) and %{lua:os.execute('touch pkgtool-pwned-41b')} stay literal
echo '$(shell touch pkgtool-pwned-41c)' >/dev/null
PKGTOOL_POST_INSTALL
exit 0
