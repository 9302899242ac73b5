#!/bin/sh
# Seeds for the path search and the name constraints: a root (appended to
# data/roots.pem), an intermediate with name constraints of every kind the
# core evaluates, leaves with wildcard, IP, e-mail, URI and directory names,
# a cross-signed intermediate and a pathLen-limited one.
set -eu
out=$(cd "$1" && pwd)
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
cd "$d"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }
ext() { printf '%s\n' "$2" > "$1.ext"; }
sign() { # name subject issuer extfile
	openssl req -new -key "$1.key" -subj "$2" -out "$1.csr" 2>/dev/null
	if [ "$3" = self ]; then
		openssl x509 -req -in "$1.csr" -signkey "$1.key" -days 36500 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
	else
		openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -set_serial "0x$(openssl rand -hex 8)" -days 36500 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
	fi
}
CA='basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid'
key root; ext root "$CA"; sign root "/CN=Fuzz NC Root" self
key other; ext other "$CA"; sign other "/CN=Fuzz Other Root" self
key ica; ext ica "$CA
nameConstraints=critical,permitted;DNS:example.com,permitted;IP:192.168.0.0/255.255.0.0,permitted;email:.example.com,permitted;URI:.example.com,permitted;dirName:dir_sect,excluded;DNS:secret.example.com,excluded;IP:192.168.9.0/255.255.255.0
[dir_sect]
O=Fuzz"; sign ica "/O=Fuzz/CN=Fuzz NC ICA" root
# The same intermediate (same key and subject) cross-signed by an untrusted root.
cp ica.key icax.key; ext icax "$CA"; sign icax "/O=Fuzz/CN=Fuzz NC ICA" other
key pl; ext pl "basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid"; sign pl "/O=Fuzz/CN=Fuzz pathlen 0" ica
key pl2; ext pl2 "$CA"; sign pl2 "/O=Fuzz/CN=Fuzz below pathlen 0" pl
LEAF='basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
authorityKeyIdentifier=keyid'
key w; ext w "$LEAF
subjectAltName=DNS:*.example.com,DNS:www.example.com,IP:192.168.1.1,email:a@mail.example.com,URI:https://www.example.com/x"; sign w "/O=Fuzz/CN=www.example.com" ica
key ok; ext ok "$LEAF
subjectAltName=DNS:www.example.com,IP:192.168.1.1,email:a@mail.example.com,URI:https://www.example.com/x"; sign ok "/O=Fuzz/CN=www.example.com" ica
key x; ext x "$LEAF
subjectAltName=DNS:www.secret.example.com,DNS:*.secret.example.com,IP:192.168.9.9"; sign x "/O=Fuzz/CN=www.secret.example.com" ica
key c; ext c "$LEAF"; sign c "/O=Fuzz/CN=www.other.org" ica
key p; ext p "$LEAF
subjectAltName=DNS:www.example.com"; sign p "/O=Fuzz/CN=www.example.com" pl2
pem() { for f in "$@"; do cat "$f.pem"; done; }
der() { for f in "$@"; do openssl x509 -in "$f.pem" -outform DER -out "$f.der"; n=$(stat -c %s "$f.der"); printf "$(printf '\\%03o\\%03o\\%03o' $((n>>16&255)) $((n>>8&255)) $((n&255)))"; cat "$f.der"; done; }

pem root >> "$out/data/roots.pem"
for s in "nc-permitted:ok ica" "nc-wildcard:w ica" "nc-excluded:x ica" "nc-cn-only:c ica" "nc-cross-signed:w icax ica other" "pathlen-exceeded:p pl2 pl ica"; do
	name=${s%%:*}; set -- ${s#*:}
	pem "$@" > "$out/seeds/chain/$name.pem"
	der "$@" > "$out/seeds/der_chain/$name.der"
done
