# Shared by the measurement scripts (sourced, not run): the -n RUNS / BUILD_DIR arguments and
# the checks every netns measurement needs. Sets `runs` and `build`; `repo` must be set.
#   measure_args NAME DEFAULT_RUNS HELP_LINES "$@"   then use $runs and $build
measure_args() {
  local name="$1" default_runs="$2" help_lines="$3"
  shift 3
  runs="$default_runs"
  local opt OPTIND=1
  while getopts "n:h" opt; do
    case "$opt" in
      n) runs="$OPTARG" ;;
      h)
        sed -n "$help_lines" "$0"
        exit 0
        ;;
      *) exit 2 ;;
    esac
  done
  shift $((OPTIND - 1))
  build="${1:-$repo/build}"
  case "$runs" in
    '' | *[!0-9]*)
      echo "$name: -n takes a number, not '$runs'" >&2
      exit 2
      ;;
  esac
  if [ "$runs" -lt 1 ] || [ "$runs" -gt 20 ]; then
    echo "$name: -n must be 1..20" >&2
    exit 2
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "$name: needs root (the scenarios run in network namespaces): sudo $0" >&2
    exit 1
  fi
  if [ ! -x "$build/test/netns/netns_scenarios" ]; then
    echo "$name: no $build/test/netns/netns_scenarios; build it first:" >&2
    echo "  cmake --build $build -j1 --target netns_scenarios happy-dial" >&2
    exit 1
  fi
}
