#!/bin/sh
# Runs the commands of docs/plugin-guide.md as they stand: every ```sh block
# between "<!-- guide-test: begin -->" and "<!-- guide-test: end -->", in
# order, in one shell with -e, in an emptied work folder where `build` is the
# Latchkey build tree and LATCHKEY_PREFIX a fresh install prefix.
# usage: run_guide.sh <plugin-guide.md> <build dir> <work dir>
set -eu
if [ $# -ne 3 ]; then
  echo "usage: $0 <plugin-guide.md> <build dir> <work dir>" >&2
  exit 2
fi
guide="$1"
build="$2"
work="$3"
[ -f "$guide" ] || { echo "FAIL: no guide at $guide" >&2; exit 2; }
[ -d "$build" ] || { echo "FAIL: no build tree at $build" >&2; exit 2; }

rm -rf "$work"
mkdir -p "$work"
script="$work/guide-commands.sh"
awk '
  /<!-- guide-test: begin -->/ { if (inside) { print "nested guide-test: begin at line " NR > "/dev/stderr"; exit 3 } inside = 1; next }
  /<!-- guide-test: end -->/ { if (!inside) { print "guide-test: end without begin at line " NR > "/dev/stderr"; exit 3 } inside = 0; next }
  inside && /^```sh[[:space:]]*$/ { code = 1; blocks++; print "# ---- block " blocks " (line " NR ")"; next }
  inside && code && /^```[[:space:]]*$/ { code = 0; next }
  inside && code { print }
  END { if (inside || code) { print "unterminated guide-test block" > "/dev/stderr"; exit 3 } if (!blocks) { print "no guide-test blocks" > "/dev/stderr"; exit 3 } }
' "$guide" > "$script"
echo "== the guide's commands ($(grep -c '^# ---- block' "$script") blocks):"
cat "$script"

ln -s "$build" "$work/build"
# pkg-config prints nothing, successfully, for a variable a .pc file does not
# define, and a failing $(...) inside a command's arguments does not stop
# sh -e; so the guide runs with a pkg-config that fails loudly instead: an
# unknown variable becomes a word no compiler accepts.
real_pkg_config=$(command -v pkg-config) || { echo "FAIL: pkg-config not found" >&2; exit 2; }
mkdir -p "$work/bin"
cat > "$work/bin/pkg-config" <<SHIM
#!/bin/sh
for arg in "\$@"; do
  case "\$arg" in
    --variable=*)
      name="\${arg#--variable=}"
      for module in "\$@"; do case "\$module" in -*) ;; *)
        if ! "$real_pkg_config" --print-variables "\$module" | grep -qx "\$name"; then
          echo "pkg-config: \$module defines no variable \$name" >&2
          echo "--pkg-config-variable-\$name-is-undefined"
          exit 1
        fi ;; esac
      done ;;
  esac
done
exec "$real_pkg_config" "\$@"
SHIM
chmod +x "$work/bin/pkg-config"
PATH="$work/bin:$PATH"
export PATH
LATCHKEY_PREFIX="$work/prefix"
export LATCHKEY_PREFIX
echo "== running them in $work with LATCHKEY_PREFIX=$LATCHKEY_PREFIX"
cd "$work"
sh -e -x "$script"
echo "== every command of the guide ran"
