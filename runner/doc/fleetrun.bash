# bash completion for fleetrun(1): subcommands, their options, the values
# of options that have a few, job names (as `fleetrun jobs` lists them),
# and files where a file is expected.
#
# Installed by `make install` to
# $(PREFIX)/share/bash-completion/completions/fleetrun, where the
# bash-completion package finds it; without that package,
# `source` this file from ~/.bashrc.

# The options of each subcommand, and those that take a value. submit-run:
# the run options submit passes on after its JOB (not those it sets itself:
# -o, --shard, --shards, --dry-run).
_fleetrun_options()
{
    local o
    case $1 in
    run) echo "-i --inventory -H --hosts -x --exclude -l --limit -w --workers -f --fanout --forks
               -t --timeout --grace -o --output
               --resume --retry-failed --retries --retry-delay --rate --max-logins
               --jump-max-logins --worker-mem --worker-cpu
               --worker-files --max-tasks-per-worker --gather --gather-by --outdir --transcript
               --templates --color --no-progress
               --ordered --dry-run --shard --shards --format --summary --max-output
               --jobs-dir -q --quiet -v --verbose -h --help" ;;
    hosts) echo "-i --inventory -H --hosts -x --exclude -l --limit --shard --shards -v --verbose --from --status
                 --job --ssh --jobs-dir -h --help" ;;
    jobs | check) echo "--jobs-dir -h --help" ;;
    report) echo "--summary --html --job -f --follow -q --quiet -h --help" ;;
    merge) echo "-o --output -q --quiet -v --verbose -h --help" ;;
    submit) echo "--slurm --shards --dir --sbatch --dry-run -h --help" ;;
    parse) echo "-t --template -p --platform -c --command --templates -h --help" ;;
    submit-run)
        for o in $(_fleetrun_options run); do
            case $o in
            -o | --output | --shard | --shards | --dry-run | -h | --help) ;;
            *) printf '%s ' "$o" ;;
            esac
        done ;;
    esac
}

_fleetrun_takes_value()
{
    case $1 in
    -i | --inventory | -H | --hosts | -x | --exclude | -l | --limit | -w | --workers | -f | --fanout | \
        --forks | -t | --timeout | --grace | \
        -o | --output | --format | --summary | --max-output | --jobs-dir | --from | --status | \
        --job | --html | --retries | --retry-delay | --rate | --max-logins | --jump-max-logins | \
        --worker-mem | --worker-cpu | \
        --worker-files | --max-tasks-per-worker | --gather-by | --outdir | --transcript | --templates | \
        --color | --shard | --shards | \
        --dir | --sbatch | --ssh | --template | -p | --platform | -c | --command | --templates) return 0 ;;
    esac
    return 1
}

# COMPREPLY from the words of a list that start with $2.
_fleetrun_words()
{
    mapfile -t COMPREPLY < <(compgen -W "$1" -- "$2")
}

# COMPREPLY: files (those matching the glob $2 first, when given) and
# directories.
_fleetrun_files()
{
    local cur=$1 glob=$2
    compopt -o filenames 2>/dev/null
    if [[ -n $glob ]]; then
        mapfile -t COMPREPLY < <(compgen -f -X "!$glob" -- "$cur"; compgen -d -- "$cur")
        ((${#COMPREPLY[@]})) && return
    fi
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
}

# The job names `fleetrun jobs` lists (its first column), looked up with
# the --jobs-dir of the command line if it has one.
_fleetrun_job_names()
{
    local fleetrun=$1 jobs_dir=$2 name rest
    if [[ -n $jobs_dir ]]; then
        "$fleetrun" jobs --jobs-dir "$jobs_dir" 2>/dev/null
    else
        "$fleetrun" jobs 2>/dev/null
    fi | while read -r name rest; do
        printf '%s\n' "$name"
    done
}

_fleetrun()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev= cmd= jobs_dir= fleetrun=${COMP_WORDS[0]}
    local i word positional=0
    COMPREPLY=()
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    # bash splits --opt=value at the = (COMP_WORDBREAKS): complete the
    # value of --opt= and --opt=val as that of --opt
    if [[ $cur == = ]]; then
        cur=
    elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then
        prev=${COMP_WORDS[COMP_CWORD - 2]}
    fi
    # the fleetrun being completed, when it can be run; else the one on PATH
    [[ -x $fleetrun ]] || fleetrun=fleetrun

    # The subcommand, its --jobs-dir, and how many arguments it has before
    # the word being completed (option values are not arguments).
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        case $word in
        --jobs-dir)
            jobs_dir=${COMP_WORDS[i + 1]}
            [[ $jobs_dir == = ]] && jobs_dir=${COMP_WORDS[i + 2]} ;;
        --jobs-dir=*) jobs_dir=${word#*=} ;;
        esac
        if [[ -z $cmd ]]; then
            [[ $word != -* ]] && cmd=$word
        elif _fleetrun_takes_value "$word"; then
            # its value: the next word, or the one after an = that bash
            # split off (--opt=value)
            [[ ${COMP_WORDS[i + 1]} == = ]] && ((i++))
            ((i++))
        elif [[ $word == = ]]; then
            # the value of some other --opt=value
            ((i++))
        elif [[ $word != -* ]]; then
            ((positional++))
        fi
    done

    if [[ -z $cmd ]]; then
        _fleetrun_words "run jobs check hosts report merge submit parse --help --version" "$cur"
        return 0
    fi

    case $prev in
    -i | --inventory | -o | --output)
        _fleetrun_files "$cur"
        return 0 ;;
    --from)
        _fleetrun_files "$cur" "*.jsonl"
        return 0 ;;
    --html)
        _fleetrun_files "$cur" "*.html"
        return 0 ;;
    --ssh)
        # a job, by name or path
        mapfile -t COMPREPLY < <(compgen -W "$(_fleetrun_job_names "$fleetrun" "$jobs_dir")" -- "$cur")
        return 0 ;;
    --template)
        _fleetrun_files "$cur" "*.textfsm"
        return 0 ;;
    -t)
        # parse's template; run's -t is a timeout, which has no list
        [[ $cmd == parse ]] && _fleetrun_files "$cur" "*.textfsm"
        return 0 ;;
    --jobs-dir | --outdir | --dir | --templates)
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -d -- "$cur")
        return 0 ;;
    --format)
        _fleetrun_words "text jsonl lines" "$cur"
        return 0 ;;
    --color)
        _fleetrun_words "auto always never" "$cur"
        return 0 ;;
    --summary)
        _fleetrun_words "text json" "$cur"
        return 0 ;;
    --shard)
        # K/N has too many values to list
        _fleetrun_words "auto" "$cur"
        return 0 ;;
    --status)
        # a comma list: complete its last item
        local done=
        [[ $cur == *,* ]] && done=${cur%,*},
        mapfile -t COMPREPLY < <(compgen -P "$done" -W "ok failed unreachable auth hostkey timeout crashed error none not-ok" -- "${cur##*,}")
        return 0 ;;
    esac
    # the other options that take a value have nothing to offer
    _fleetrun_takes_value "$prev" && return 0

    if [[ $cur == -* ]]; then
        # submit's options come before its JOB, run's after it
        if [[ $cmd == submit ]] && ((positional > 0)); then
            _fleetrun_words "$(_fleetrun_options submit-run)" "$cur"
        else
            _fleetrun_words "$(_fleetrun_options "$cmd")" "$cur"
        fi
        return 0
    fi

    case $cmd in
    run | submit | check)
        # run and submit take one job, check several: names, or paths once
        # the word looks like one
        [[ $cmd != check ]] && ((positional > 0)) && return 0
        if [[ $cur == */* || $cur == .* ]]; then
            _fleetrun_files "$cur" "*.y*ml"
        else
            _fleetrun_words "$(_fleetrun_job_names "$fleetrun" "$jobs_dir")" "$cur"
        fi ;;
    report)
        ((positional > 0)) && return 0
        _fleetrun_files "$cur" "*.jsonl" ;;
    merge)
        # any number of journals
        _fleetrun_files "$cur" "*.jsonl" ;;
    parse)
        # one input, any file
        ((positional > 0)) && return 0
        _fleetrun_files "$cur" ;;
    esac
    return 0
}

complete -F _fleetrun fleetrun
