%check
touch /tmp/pkgtool-pwned-53a
%clean
touch /tmp/pkgtool-pwned-53b
%(touch /tmp/pkgtool-pwned-53c)
%{lua: os.execute("touch /tmp/pkgtool-pwned-53d")}
%files
%define x %(touch /tmp/pkgtool-pwned-53e)
%{x}
%if 0
exit 0
