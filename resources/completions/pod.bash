# bash completion for pod (installed as bash-completion/completions/pod).
# Commands, options, profile selectors (--profile) and pod names (logs, send, stop) come
# from pod itself: `pod --complete commands|profiles|pods`.

_pod() {
        local cur prev words cword
        if declare -F _init_completion >/dev/null; then
                _init_completion || return
        else
                cur=${COMP_WORDS[COMP_CWORD]}
                prev=${COMP_WORDS[COMP_CWORD - 1]}
                words=("${COMP_WORDS[@]}")
                cword=$COMP_CWORD
        fi
        local pod=${words[0]:-pod}

        case $prev in
        --profile)
                mapfile -t COMPREPLY < <(compgen -W "$("$pod" --complete profiles 2>/dev/null)" -- "$cur")
                return
                ;;
        --cwd | --dir)
                mapfile -t COMPREPLY < <(compgen -d -- "$cur")
                return
                ;;
        --scope)
                mapfile -t COMPREPLY < <(compgen -W "read: write:" -- "$cur")
                return
                ;;
        esac
        if [[ $cword -eq 1 ]]; then
                mapfile -t COMPREPLY < <(compgen -W "$("$pod" --complete commands 2>/dev/null) --help --version --profile --model --name --cwd --scope --json" -- "$cur")
                return
        fi
        local opts=""
        case ${words[1]} in
        logs | send | stop)
                if [[ $cur != -* ]]; then
                        mapfile -t COMPREPLY < <(compgen -W "$("$pod" --complete pods 2>/dev/null)" -- "$cur")
                        return
                fi
                opts="--help -f --run --tree"
                ;;
        ps) opts="--tree --all --json --help" ;;
        doctor) opts="--fix --json --network --cwd --help" ;;
        profile)
                if [[ $cword -eq 2 ]]; then
                        opts="list show"
                else
                        opts="--cwd --name --model --scope --resolved --explain --prompt --json --help"
                        [[ $cur != -* ]] && opts="$opts $("$pod" --complete profiles 2>/dev/null)"
                fi
                ;;
        *) opts="--profile --model --name --cwd --scope --json --help" ;;
        esac
        mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
}
complete -F _pod pod
