# fish completion for mt. Install: make install, or copy to ~/.config/fish/completions/mt.fish

function __mt_servers
    for f in $MT_CONFIG config/server.yaml (set -q XDG_CONFIG_HOME; and echo $XDG_CONFIG_HOME; or echo ~/.config)/mt/config.yaml /etc/mt/config.yaml
        if test -r "$f"
            sed -n 's/^\([A-Za-z0-9_.-][A-Za-z0-9_.-]*\):.*/\1/p' $f | grep -vx defaults
            return
        end
    end
end

function __mt_scales
    for c in $MT_CATALOGUE config/scales.yaml (dirname (command -s mt 2>/dev/null; or echo /usr/local/bin/mt))/../share/mt/scales.yaml
        if test -r "$c"
            sed -n '/^scales:/,/^[A-Za-z]/ s/^  \([A-Za-z0-9_.-][A-Za-z0-9_.-]*\):.*/\1/p' $c
            return
        end
    end
end

set -l cmds export decrypt recover benchmark verify scales stats status custody withdraw config help
complete -c mt -f
complete -c mt -l config -r -d 'configuration file'
complete -c mt -l json -d 'machine-readable output'
complete -c mt -s q -l quiet -d 'errors only'
complete -c mt -s v -l verbose -d 'debug messages'
complete -c mt -l allow-readable-secrets -d 'accept secrets readable by others'
complete -c mt -l version
complete -c mt -l help
complete -c mt -n "not __fish_seen_subcommand_from $cmds" -a export -d 'download, archive, write CSVs, delete'
complete -c mt -n "not __fish_seen_subcommand_from $cmds" -a decrypt -d 'decrypt RSA fields'
complete -c mt -n "not __fish_seen_subcommand_from $cmds" -a recover -d 'rebuild CSVs from archives'
complete -c mt -n "not __fish_seen_subcommand_from $cmds" -a benchmark -d 'high-water marks'
complete -c mt -n "not __fish_seen_subcommand_from $cmds" -a verify -d 'prove integrity'
complete -c mt -n "not __fish_seen_subcommand_from $cmds" -a scales -d 'scales and catalogue'
complete -c mt -n "not __fish_seen_subcommand_from $cmds" -a stats -d 'data quality and scores'
complete -c mt -n "not __fish_seen_subcommand_from $cmds" -a status -d 'health of the exports, alert when they stop'
complete -c mt -n "not __fish_seen_subcommand_from $cmds" -a custody -d 'chain of custody, time on the server'
complete -c mt -n "not __fish_seen_subcommand_from $cmds" -a withdraw -d 'remove a withdrawn participant'
complete -c mt -n "not __fish_seen_subcommand_from $cmds" -a config -d 'check the configuration'
complete -c mt -n "not __fish_seen_subcommand_from $cmds" -a help -d 'help'
complete -c mt -n "__fish_seen_subcommand_from export recover verify benchmark scales status custody withdraw config" -a "(__mt_servers)"
complete -c mt -n "__fish_seen_subcommand_from export recover benchmark scales stats custody" -a "(__mt_scales)"
complete -c mt -n "__fish_seen_subcommand_from export" -a "all static ."
complete -c mt -n "__fish_seen_subcommand_from export" -l dry-run -d 'archive only, change nothing'
complete -c mt -n "__fish_seen_subcommand_from export" -l no-delete -d 'never delete'
complete -c mt -n "__fish_seen_subcommand_from export" -l concurrency -x -d 'parallel deletes'
complete -c mt -n "__fish_seen_subcommand_from export" -l after -x -d 'yyyy-MM-dd-HH-mm-ss'
complete -c mt -n "__fish_seen_subcommand_from decrypt" -l key -r -F -d 'private key'
complete -c mt -n "__fish_seen_subcommand_from decrypt" -l server -x -a "(__mt_servers)"
complete -c mt -n "__fish_seen_subcommand_from decrypt" -l format -x -a "csv json jsonl"
complete -c mt -n "__fish_seen_subcommand_from decrypt" -l fields -x -d 'more fields to decrypt'
complete -c mt -n "__fish_seen_subcommand_from decrypt" -s o -l output -r -F
complete -c mt -n "__fish_seen_subcommand_from decrypt" -l value -x -d 'one base64 value'
complete -c mt -n "__fish_seen_subcommand_from decrypt" -F
complete -c mt -n "__fish_seen_subcommand_from recover" -l static -d 'describe as non-deleteable in the README'
complete -c mt -n "__fish_seen_subcommand_from recover" -l deleteable -d 'describe as deleteable in the README'
complete -c mt -n "__fish_seen_subcommand_from recover" -l key -r -F -d 'private key'
complete -c mt -n "__fish_seen_subcommand_from recover decrypt" -l fields -x -d 'more fields to decrypt'
complete -c mt -n "__fish_seen_subcommand_from benchmark" -a "set reset import rebuild release"
complete -c mt -n "__fish_seen_subcommand_from benchmark verify status" -l remote -d 'ask the server too'
complete -c mt -n "__fish_seen_subcommand_from status" -l max-age -x -a "30m 1h 2h 1d" -d 'alert when the last success is older'
complete -c mt -n "__fish_seen_subcommand_from custody" -l threshold -x -a "30m 1h 2h 1d" -d 'overdue after'
complete -c mt -n "__fish_seen_subcommand_from custody" -l html -r -F -d 'page for an ethics board'
complete -c mt -n "__fish_seen_subcommand_from withdraw" -l entries -x -d 'SCALE:ID named directly'
complete -c mt -n "__fish_seen_subcommand_from withdraw" -l key -r -F -d 'private key'
complete -c mt -n "__fish_seen_subcommand_from withdraw" -l yes -d 'do it'
complete -c mt -n "__fish_seen_subcommand_from benchmark" -l yes -d 'do not ask'
complete -c mt -n "__fish_seen_subcommand_from benchmark" -l deleteable -x -a "true false"
complete -c mt -n "__fish_seen_subcommand_from scales" -a "show check codebook" -l local
complete -c mt -n "__fish_seen_subcommand_from scales" -l format -x -a "md csv html"
complete -c mt -n "__fish_seen_subcommand_from scales" -s o -l output -r -F
complete -c mt -n "__fish_seen_subcommand_from stats" -a "summary score wide dedupe report flow mend dataset"
complete -c mt -n "__fish_seen_subcommand_from stats" -l shape -x -a "long wide"
complete -c mt -n "__fish_seen_subcommand_from stats" -l format -x -a "csv sav dta sqlite"
complete -c mt -n "__fish_seen_subcommand_from stats" -l items -l include-excluded
complete -c mt -n "__fish_seen_subcommand_from stats" -l exclude -r -F
complete -c mt -n "__fish_seen_subcommand_from stats" -l recovered -l csv -l scores
complete -c mt -n "__fish_seen_subcommand_from stats scales" -l scale -x -a "(__mt_scales)"
complete -c mt -n "__fish_seen_subcommand_from stats scales" -l study -x -a "r34 r01 kaiser templeton"
complete -c mt -n "__fish_seen_subcommand_from stats" -l keep -x -a "first last"
complete -c mt -n "__fish_seen_subcommand_from stats" -l html -r -F
complete -c mt -n "__fish_seen_subcommand_from stats" -s o -l output -r -F
complete -c mt -n "__fish_seen_subcommand_from config" -a "check path"
complete -c mt -n "__fish_seen_subcommand_from help" -a "$cmds"
