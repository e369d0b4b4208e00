# bash completion for mt                                  -*- shell-script -*-
# Install: make install, or source this file from ~/.bashrc.

_mt_config_file() {
    local i
    for ((i = 1; i < ${#COMP_WORDS[@]}; i++)); do
        case "${COMP_WORDS[i]}" in
            --config) echo "${COMP_WORDS[i + 1]}"; return ;;
            --config=*) echo "${COMP_WORDS[i]#--config=}"; return ;;
        esac
    done
    local f
    for f in "$MT_CONFIG" config/server.yaml "${XDG_CONFIG_HOME:-$HOME/.config}/mt/config.yaml" /etc/mt/config.yaml; do
        [ -n "$f" ] && [ -r "$f" ] && { echo "$f"; return; }
    done
}

# Server names: the top-level blocks of the config file (cheap: no mt process, no network).
_mt_servers() {
    local f
    f=$(_mt_config_file)
    [ -n "$f" ] && [ -r "$f" ] && sed -n 's/^\([A-Za-z0-9_.-][A-Za-z0-9_.-]*\):.*/\1/p' "$f" | grep -vx defaults
}

# Scale names: from the shipped catalogue next to mt, or the current tree.
_mt_scales() {
    local c
    for c in "$MT_CATALOGUE" config/scales.yaml "$(dirname "$(command -v mt 2>/dev/null)")/../share/mt/scales.yaml"; do
        if [ -n "$c" ] && [ -r "$c" ]; then
            sed -n '/^scales:/,/^[A-Za-z]/ s/^  \([A-Za-z0-9_.-][A-Za-z0-9_.-]*\):.*/\1/p' "$c"
            return
        fi
    done
}

_mt() {
    local cur prev words cword
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD - 1]}"
    local commands="export decrypt recover benchmark verify scales stats status custody withdraw config help"
    local globals="--config --json --quiet --verbose --allow-readable-secrets --help --version"

    case "$prev" in
        --config|-o|--output|--key|--html|--pass-file|--exclude) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --server) COMPREPLY=($(compgen -W "$(_mt_servers)" -- "$cur")); return ;;
        --format)
            if [[ " ${COMP_WORDS[*]} " == *" codebook "* ]]; then COMPREPLY=($(compgen -W "md csv html" -- "$cur"))
            else COMPREPLY=($(compgen -W "csv json jsonl" -- "$cur")); fi
            return ;;
        --keep) COMPREPLY=($(compgen -W "first last" -- "$cur")); return ;;
        --max-age|--threshold) COMPREPLY=($(compgen -W "30m 1h 2h 1d" -- "$cur")); return ;;
        --deleteable) COMPREPLY=($(compgen -W "true false" -- "$cur")); return ;;
        --scale) COMPREPLY=($(compgen -W "$(_mt_scales)" -- "$cur")); return ;;
        --study) COMPREPLY=($(compgen -W "r34 r01 kaiser templeton" -- "$cur")); return ;;
    esac

    # The command is the first word that is not a global option (or its value).
    local i cmd="" nargs=0
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${COMP_WORDS[i]}" in
            --config) ((i++)) ;;
            -*) ;;
            *) if [ -z "$cmd" ]; then cmd="${COMP_WORDS[i]}"; else ((nargs++)); fi ;;
        esac
    done

    if [ -z "$cmd" ]; then
        COMPREPLY=($(compgen -W "$commands $globals" -- "$cur"))
        return
    fi

    local opts=""
    case "$cmd" in
        export) opts="--dry-run --no-delete --concurrency --after"
            if [ "$nargs" -eq 0 ]; then opts="$opts . $(_mt_servers)"; elif [ "$nargs" -eq 1 ]; then opts="$opts . all static $(_mt_scales)"; fi ;;
        decrypt) opts="--key --server --format --fields --output -o --value"
            COMPREPLY=($(compgen -W "$opts" -- "$cur") $(compgen -f -- "$cur")); return ;;
        recover) opts="--key --static --deleteable --fields"
            if [ "$nargs" -eq 0 ]; then opts="$opts . $(_mt_servers)"; elif [ "$nargs" -eq 1 ]; then opts="$opts . $(_mt_scales)"; fi ;;
        benchmark) opts="--remote --yes --deleteable"
            if [ "$nargs" -eq 0 ]; then opts="$opts set reset import rebuild release $(_mt_servers)"; else opts="$opts $(_mt_scales)"; fi ;;
        verify) opts="--remote"
            [ "$nargs" -eq 0 ] && opts="$opts . $(_mt_servers)" ;;
        scales) opts="--local --scale --study --format --output -o"
            if [ "$nargs" -eq 0 ]; then opts="$opts show check codebook $(_mt_servers)"; else opts="$opts $(_mt_scales)"; fi
            COMPREPLY=($(compgen -W "$opts" -- "$cur") $(compgen -f -X '!*.csv' -- "$cur")); return ;;
        stats) opts="--recovered --scale --study --csv --scores --keep --output -o --html --exclude --shape --items --include-excluded --format"
            case "$prev" in
                --shape) COMPREPLY=($(compgen -W "long wide" -- "$cur")); return ;;
                --format) COMPREPLY=($(compgen -W "csv sav dta sqlite" -- "$cur")); return ;;
            esac
            if [ "$nargs" -eq 0 ]; then opts="$opts summary score wide dedupe report flow mend dataset"; else opts="$opts $(_mt_servers) $(_mt_scales)"; fi
            COMPREPLY=($(compgen -W "$opts" -- "$cur") $(compgen -f -X '!*.csv' -- "$cur")); return ;;
        status) opts="--max-age --remote"
            [ "$nargs" -eq 0 ] && opts="$opts . $(_mt_servers)" ;;
        custody) opts="--threshold --html"
            if [ "$nargs" -eq 0 ]; then opts="$opts $(_mt_servers)"; elif [ "$nargs" -eq 1 ]; then opts="$opts $(_mt_scales)"; fi ;;
        withdraw) opts="--entries --key --yes"
            [ "$nargs" -eq 0 ] && opts="$opts $(_mt_servers)" ;;
        config) [ "$nargs" -eq 0 ] && opts="check path" || opts="$(_mt_servers)" ;;
        help) [ "$nargs" -eq 0 ] && opts="$commands" ;;
    esac
    COMPREPLY=($(compgen -W "$opts --help $globals" -- "$cur"))
}
complete -F _mt mt

_mt_sim() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD - 1]}"
    case "$prev" in
        --data) COMPREPLY=($(compgen -d -- "$cur")); return ;;
        --public-key|--catalogue|--ledger|--url-file|--pass-file) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --login-redirect) COMPREPLY=($(compgen -W "unauthenticated all" -- "$cur")); return ;;
        --zone) COMPREPLY=($(compgen -W "UTC-5 UTC UTC+9" -- "$cur")); return ;;
        --truncate|--invalid-json|--html|--hang|--reset|--slow-body) COMPREPLY=($(compgen -W "all list fetch delete" -- "$cur")); return ;;
        --keep) COMPREPLY=($(compgen -W "$(_mt_scales)" -- "$cur")); return ;;
        --study) COMPREPLY=($(compgen -W "r34 r01 kaiser templeton" -- "$cur")); return ;;
        --late-commit|--restart-ids|--flip-deleteable) return ;;
        --participants|--seed|--first-id|--arrivals|--arrival-interval|--port|--latency-ms|--slow-rate|--host|--prefix|--user|--fail-list|--fail-fetch|--fail-delete) return ;;
    esac
    COMPREPLY=($(compgen -W "--help --generate --tls --data --public-key --catalogue --study --ledger --url-file --pass-file --participants --seed --first-id --arrivals --arrival-interval --port --latency-ms --slow-rate --keep --zone --late-commit --restart-ids --flip-deleteable --host --prefix --user --login-redirect --fail-list --fail-fetch --fail-delete --truncate --invalid-json --html --hang --reset --slow-body" -- "$cur"))
}
complete -F _mt_sim mt-sim
