echo removing
%PrE
touch /tmp/pkgtool-pwned-53f
