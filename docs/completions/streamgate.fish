function __streamgate_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __streamgate_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __streamgate_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __streamgate_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __streamgate_parse_tokens -S
    set -l unparsed_tokens (__streamgate_tokens -pc)
    switch $unparsed_tokens[1]
    case 'streamgate'
        __streamgate_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'run'
            __streamgate_parse_subcommand 0 'c/config=' 'log-level=' 'log-format=' 'drain-seconds=' 'threads=' 'version' 'h/help'
        case 'check'
            __streamgate_parse_subcommand 0 'c/config=' 'version' 'h/help'
        case 'demo'
            __streamgate_parse_subcommand 0 'port=' 'admin-port=' 'streams=' 'log-level=' 'version' 'h/help'
        case 'connections'
            __streamgate_parse_subcommand 0 'admin=' 'token=' 'kind=' 'watch' 'json' 'version' 'h/help'
        case 'reload'
            __streamgate_parse_subcommand 0 'admin=' 'token=' 'version' 'h/help'
        case 'help'
            __streamgate_parse_subcommand -r 1 'version'
        end
    end
end

function __streamgate_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __streamgate_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __streamgate_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __streamgate_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__streamgate_tokens -p)
    if test -z "$(__streamgate_tokens -t)"
        set -l index (count (__streamgate_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'streamgate' -f
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_flags_or_options "streamgate" version' -l 'version' -d 'Show the version.'
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_flags_or_options "streamgate" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_positional "streamgate" -eq 1' -fa 'run' -d 'Run the proxy until SIGINT or SIGTERM.'
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_positional "streamgate" -eq 1' -fa 'check' -d 'Validate a configuration file and summarize it.'
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_positional "streamgate" -eq 1' -fa 'demo' -d 'Run StreamGate over TLS and HTTP/2 in front of a built-in demo origin.'
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_positional "streamgate" -eq 1' -fa 'connections' -d 'Show the live connections and streams of a running StreamGate (from its admin endpoint).'
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_positional "streamgate" -eq 1' -fa 'reload' -d 'Reload the configuration file of a running StreamGate (through its admin endpoint).'
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_positional "streamgate" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_flags_or_options "streamgate run" c config' -l 'config' -s 'c' -d 'The YAML configuration file (default: the first of ./streamgate.yaml, ./conf/streamgate.yaml, /etc/streamgate/streamgate.yaml that exists).' -rfka ''
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_flags_or_options "streamgate run" log-level' -l 'log-level' -d 'Log level: trace, debug, info, notice, warning, error, critical (default: the config\'s log.level).' -rfka 'trace debug info notice warning error critical'
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_flags_or_options "streamgate run" log-format' -l 'log-format' -d 'Log format: text or json (default: the config\'s log.format).' -rfka 'text json'
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_flags_or_options "streamgate run" drain-seconds' -l 'drain-seconds' -d 'On shutdown, how long the drain may take, in seconds (default: the config\'s drain.timeout).' -rfka ''
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_flags_or_options "streamgate run" threads' -l 'threads' -d 'Event loop threads (default: one per core).' -rfka ''
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_flags_or_options "streamgate run" version' -l 'version' -d 'Show the version.'
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_flags_or_options "streamgate run" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_flags_or_options "streamgate check" c config' -l 'config' -s 'c' -d 'The YAML configuration file (default: the first of ./streamgate.yaml, ./conf/streamgate.yaml, /etc/streamgate/streamgate.yaml that exists).' -rfka ''
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_flags_or_options "streamgate check" version' -l 'version' -d 'Show the version.'
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_flags_or_options "streamgate check" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_flags_or_options "streamgate demo" port' -l 'port' -d 'The HTTPS port on 127.0.0.1 (0: any free port).' -rfka ''
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_flags_or_options "streamgate demo" admin-port' -l 'admin-port' -d 'The admin endpoint\'s port on 127.0.0.1 (0: any free port).' -rfka ''
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_flags_or_options "streamgate demo" streams' -l 'streams' -d 'How many EventSource streams the demo page opens.' -rfka ''
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_flags_or_options "streamgate demo" log-level' -l 'log-level' -d 'Log level: trace, debug, info, notice, warning, error, critical.' -rfka 'trace debug info notice warning error critical'
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_flags_or_options "streamgate demo" version' -l 'version' -d 'Show the version.'
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_flags_or_options "streamgate demo" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_flags_or_options "streamgate connections" admin' -l 'admin' -d 'The admin endpoint.' -rfka ''
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_flags_or_options "streamgate connections" token' -l 'token' -d 'The admin token (default: $STREAMGATE_ADMIN_TOKEN).' -rfka ''
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_flags_or_options "streamgate connections" kind' -l 'kind' -d 'Only streams of this kind: http, sse, websocket.' -rfka ''
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_flags_or_options "streamgate connections" watch' -l 'watch' -d 'Redraw every second until interrupted.'
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_flags_or_options "streamgate connections" json' -l 'json' -d 'Print the JSON the admin endpoint answers.'
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_flags_or_options "streamgate connections" version' -l 'version' -d 'Show the version.'
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_flags_or_options "streamgate connections" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_flags_or_options "streamgate reload" admin' -l 'admin' -d 'The admin endpoint.' -rfka ''
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_flags_or_options "streamgate reload" token' -l 'token' -d 'The admin token (default: $STREAMGATE_ADMIN_TOKEN).' -rfka ''
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_flags_or_options "streamgate reload" version' -l 'version' -d 'Show the version.'
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_flags_or_options "streamgate reload" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'streamgate' -n '__streamgate_should_offer_completions_for_flags_or_options "streamgate help" version' -l 'version' -d 'Show the version.'
