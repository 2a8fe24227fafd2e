#!/bin/sh
# Entry point of the kong container: resolves the decK-style references ${{ env "NAME" }} in
# the declarative file from the environment (decK does this on `deck gateway sync`; Kong in
# DB-less mode reads the file as it is), writes the result where KONG_DECLARATIVE_CONFIG
# points, and starts Kong as the image would. A reference to an unset variable stops here:
# Kong would otherwise start with an empty secret. References must sit in single-quoted YAML
# strings (a ' in the value is doubled).
set -eu
awk '
  /^[ \t]*#/ { print; next }  # comments may show references as examples
  {
    line = $0
    out = ""
    while (match(line, /\$\{\{ *env "[A-Za-z0-9_]+" *\}\}/)) {
      ref = substr(line, RSTART, RLENGTH)
      name = ref
      sub(/^\$\{\{ *env "/, "", name)
      sub(/" *\}\}$/, "", name)
      if (!(name in ENVIRON) || ENVIRON[name] == "") {
        printf "render.sh: %s is referenced by %s but not set\n", name, FILENAME > "/dev/stderr"
        exit 1
      }
      value = ENVIRON[name]
      gsub(/\047/, "\047\047", value)  # references sit in single-quoted YAML strings
      out = out substr(line, 1, RSTART - 1) value
      line = substr(line, RSTART + RLENGTH)
    }
    print out line
  }
' /kong/declarative/kong.yml >"$KONG_DECLARATIVE_CONFIG"
exec /docker-entrypoint.sh kong docker-start
