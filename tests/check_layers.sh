#!/bin/sh
# check_layers.sh — the layers point one way: the public header, then the core (engine/, ops/,
# kernels/, loaders/), then app/, then serve/, then cli/ on top. Fails, naming the file and the
# include, when a file includes a header of a higher layer, or when cli/ reaches past app/ and
# serve/ into the core other than through the exceptions listed below.
top=${SNG_TEST_SRCDIR:-$(dirname "$0")}/..
cd "$top" || exit 99

rank() {
    case "$1" in
    include/*|sngraph/*) echo 0 ;;
    engine/*|ops/*|kernels/*|loaders/*) echo 1 ;;
    app/*) echo 2 ;;
    serve/*) echo 3 ;;
    cli/*) echo 4 ;;
    *) echo -1 ;;
    esac
}

# cli/ files that still reach into the core, with the reason; shrink this list, never grow it.
cli_core_ok=""

# engine/session.h is the session's private structure: the layers above use engine/state.h.
private_ok=""

bad=0
for f in $(find include engine ops kernels loaders app serve cli -name '*.[ch]' 2>/dev/null | sort); do
    fr=$(rank "$f")
    dir=${f%/*}
    for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
        case "$inc" in config.h) continue ;; esac
        # A bare name is in the same directory; ../x is relative to it.
        case "$inc" in
        */*) path=$inc ;;
        *) path=$dir/$inc ;;
        esac
        case "$path" in ../*|*/../*) path=$(cd "$dir" && realpath -m --relative-to="$top" "$inc") ;; esac
        case "$path" in sngraph/*) path=include/$path ;; esac
        ir=$(rank "$path")
        [ "$ir" -lt 0 ] && continue
        if [ "$path" = engine/session.h ] && [ "$fr" -ge 2 ]; then
            case "$private_ok" in
            *"
$f:$path
"*) ;;
            *) echo "$f: includes \"$inc\", the session's private structure (use engine/state.h)" >&2
               bad=1 ;;
            esac
        fi
        if [ "$ir" -gt "$fr" ]; then
            echo "$f: includes \"$inc\", a higher layer" >&2
            bad=1
        elif [ "$fr" -eq 4 ] && [ "$ir" -eq 1 ]; then
            case "$cli_core_ok" in
            *"
$f:$path
"*) ;;
            *) echo "$f: includes \"$inc\": cli/ uses app/, serve/ and the public header only" >&2
               bad=1 ;;
            esac
        fi
    done
done
exit $bad
