#compdef streamgate

__streamgate_complete() {
    local -ar non_empty_completions=("${@:#(|:*)}")
    local -ar empty_completions=("${(M)@:#(|:*)}")
    _describe -V '' non_empty_completions -- empty_completions -P $'\'\''
}

__streamgate_custom_complete() {
    local -a completions
    completions=("${(@f)"$("${command_name}" "${@}" "${command_line[@]}")"}")
    if [[ "${#completions[@]}" -gt 1 ]]; then
        __streamgate_complete "${completions[@]:0:-1}"
    fi
}

__streamgate_cursor_index_in_current_word() {
    if [[ -z "${QIPREFIX}${IPREFIX}${PREFIX}" ]]; then
        printf 0
    else
        printf %s "${#${(z)LBUFFER}[-1]}"
    fi
}

_streamgate() {
    emulate -RL zsh -G
    setopt extendedglob nullglob numericglobsort
    unsetopt aliases banghist

    local -xr SAP_SHELL=zsh
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(builtin emulate zsh -c 'printf %s "${ZSH_VERSION}"')"
    local -r SAP_SHELL_VERSION

    local context state state_descr line
    local -A opt_args

    local -r command_name="${words[1]}"
    local -ar command_line=("${words[@]}")
    local -ir current_word_index="$((CURRENT - 1))"

    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'run:Run the proxy until SIGINT or SIGTERM.'
            'check:Validate a configuration file and summarize it.'
            'demo:Run StreamGate over TLS and HTTP/2 in front of a built-in demo origin.'
            'connections:Show the live connections and streams of a running StreamGate (from its admin endpoint).'
            'reload:Reload the configuration file of a running StreamGate (through its admin endpoint).'
            'help:Show subcommand help information.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        run|check|demo|connections|reload|help)
            "_streamgate_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_streamgate_run() {
    local -i ret=1
    local -ar ___log_level=('trace' 'debug' 'info' 'notice' 'warning' 'error' 'critical')
    local -ar ___log_format=('text' 'json')
    local -ar arg_specs=(
        '(--config -c)'{--config,-c}'[The YAML configuration file (default\: the first of ./streamgate.yaml, ./conf/streamgate.yaml, /etc/streamgate/streamgate.yaml that exists).]:config:'
        '--log-level[Log level\: trace, debug, info, notice, warning, error, critical (default\: the config'\''s log.level).]:log-level:{__streamgate_complete "${___log_level[@]}"}'
        '--log-format[Log format\: text or json (default\: the config'\''s log.format).]:log-format:{__streamgate_complete "${___log_format[@]}"}'
        '--drain-seconds[On shutdown, how long the drain may take, in seconds (default\: the config'\''s drain.timeout).]:drain-seconds:'
        '--threads[Event loop threads (default\: one per core).]:threads:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_streamgate_check() {
    local -i ret=1
    local -ar arg_specs=(
        '(--config -c)'{--config,-c}'[The YAML configuration file (default\: the first of ./streamgate.yaml, ./conf/streamgate.yaml, /etc/streamgate/streamgate.yaml that exists).]:config:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_streamgate_demo() {
    local -i ret=1
    local -ar ___log_level=('trace' 'debug' 'info' 'notice' 'warning' 'error' 'critical')
    local -ar arg_specs=(
        '--port[The HTTPS port on 127.0.0.1 (0\: any free port).]:port:'
        '--admin-port[The admin endpoint'\''s port on 127.0.0.1 (0\: any free port).]:admin-port:'
        '--streams[How many EventSource streams the demo page opens.]:streams:'
        '--log-level[Log level\: trace, debug, info, notice, warning, error, critical.]:log-level:{__streamgate_complete "${___log_level[@]}"}'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_streamgate_connections() {
    local -i ret=1
    local -ar arg_specs=(
        '--admin[The admin endpoint.]:admin:'
        '--token[The admin token (default\: $STREAMGATE_ADMIN_TOKEN).]:token:'
        '--kind[Only streams of this kind\: http, sse, websocket.]:kind:'
        '--watch[Redraw every second until interrupted.]'
        '--json[Print the JSON the admin endpoint answers.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_streamgate_reload() {
    local -i ret=1
    local -ar arg_specs=(
        '--admin[The admin endpoint.]:admin:'
        '--token[The admin token (default\: $STREAMGATE_ADMIN_TOKEN).]:token:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_streamgate_help() {
    local -i ret=1
    local -ar arg_specs=(
        '*:subcommands:'
        '--version[Show the version.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

if [[ "${funcstack[1]}" = _streamgate ]]; then
    _streamgate "${@}"
else
    compdef _streamgate streamgate
fi
