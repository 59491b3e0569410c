# fish completion for pod (installed as fish/vendor_completions.d/pod.fish). The words come
# from pod itself: `pod --complete commands|profiles|pods`.

function __pod_no_command
        set -l tokens (commandline -opc)
        test (count $tokens) -eq 1
end

function __pod_command_is
        set -l tokens (commandline -opc)
        test (count $tokens) -ge 2; and contains -- $tokens[2] $argv
end

complete -c pod -f
complete -c pod -n __pod_no_command -a '(pod --complete commands 2>/dev/null)'
complete -c pod -l help -d 'show the help'
complete -c pod -n __pod_no_command -l version -d 'print the version'
complete -c pod -l profile -x -a '(pod --complete profiles 2>/dev/null)' -d 'a profile selector'
complete -c pod -l model -x -d 'override the model (provider:model)'
complete -c pod -l name -x -d "the pod's name"
complete -c pod -l cwd -x -a '(__fish_complete_directories)' -d 'the working directory'
complete -c pod -l scope -x -a 'read: write:' -d 'add a scope rule'
complete -c pod -l json -d 'JSON output'
complete -c pod -n '__pod_command_is logs send stop' -a '(pod --complete pods 2>/dev/null)'
complete -c pod -n '__pod_command_is ps' -l tree -d 'children under their parents'
complete -c pod -n '__pod_command_is ps' -l all -d 'also pods that ended'
complete -c pod -n '__pod_command_is doctor' -l fix -d 'repair what is safe'
complete -c pod -n '__pod_command_is doctor' -l network -d 'check each endpoint answers'
complete -c pod -n '__pod_command_is profile' -a 'list show'
