#!/bin/sh
# `memwarden completion bash|zsh|fish` (issue 26): the scripts are made from
# the option tables --help is made from, so every option a command's --help
# lists must complete, in each shell, run for real: bash through its
# completion function (COMP_WORDS / COMPREPLY), fish through `complete -C`,
# zsh through a pseudo-terminal (zpty: compinit, the line typed, TAB, the
# buffer read back). A shell that is not installed is skipped, said so.
# Also: the words an option takes (top --sort, tune --profile, ...), the
# command names, and the exit table of memwarden --help in every command's
# EXIT STATUS.
. tests/lib.sh
scratch

# "CMD --option" for every option every command's --help lists.
"$MW_BIN" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 && /^  [a-z]/ { print $1 }' >"$T/cmds"
while read -r c; do
    "$MW_BIN" "$c" --help | sed -n '/^OPTIONS/,/^[A-Z]/p' |
        grep -oE '^    (-[a-zA-Z], )?--[a-z][a-z-]*|^        --[a-z][a-z-]*' |
        grep -oE -- '--[a-z-]+' | sed "s/^/$c /"
done <"$T/cmds" >"$T/opts"
n=$(wc -l <"$T/opts")
if [ "$n" -ge 150 ]; then ok "completion: $n options of $(wc -l <"$T/cmds") commands to check"
else fail "completion: options found" "$n (the --help OPTIONS sections not parsed?)"; fi

# Values that complete to words: CMD OPTION WORD-EXPECTED
cat >"$T/values" <<'EOF'
top --sort uss
top --by unit
tune --profile embedded-4g
leak --metric pss
analyze --format freeheap
drop-caches --level 2
run --swap max
EOF

# ---- bash ----
if command -v bash >/dev/null 2>&1; then
    "$MW_BIN" completion bash >"$T/c.bash"
    # bash_complete WORDS...: what the completion function offers for the
    # last word (COMPREPLY, one a line).
    cat >"$T/run.bash" <<'EOF'
. "$1"
shift
while IFS= read -r line; do
    read -r -a COMP_WORDS <<<"$line"
    [[ $line == *' ' ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    _memwarden
    printf '%s\t%s\n' "$line" "${COMPREPLY[*]}"
done
EOF
    # each option by its name less the last letter
    awk '{ print "memwarden " $1 " " substr($2, 1, length($2) - 1) }' "$T/opts" >"$T/b.in"
    awk '{ print "memwarden " $1 " " $2 " " }' "$T/values" >>"$T/b.in"
    printf 'memwarden st\nmemwarden --root /tmp dro\nmemwarden help doc\nmemwarden zram \nmemwarden completion \nmemwarden --ver\n' >>"$T/b.in"
    bash "$T/run.bash" "$T/c.bash" <"$T/b.in" >"$T/b.out" 2>"$T/b.err"
    missing=$(awk -F'\t' 'NR == FNR { split($0, k, " "); want[FNR] = k[2]; line[FNR] = $0; next }
        { split($2, got, " "); found = 0; for (i in got) if (got[i] == want[FNR]) found = 1;
          if (!found) print line[FNR] }' "$T/opts" "$T/b.out" | head -20)
    if [ -z "$missing" ] && [ "$(wc -l <"$T/b.out")" -ge "$n" ]; then ok "bash: every option of every command completes"
    else fail "bash: every option of every command completes" "missing: $missing" "$(head -3 "$T/b.err")"; fi
    while read -r c o w; do
        if grep -q "^memwarden $c $o 	.*\\b$w\\b" "$T/b.out"; then ok "bash: $c $o completes $w"
        else fail "bash: $c $o completes $w" "$(grep "^memwarden $c $o " "$T/b.out")"; fi
    done <"$T/values"
    for want in 'memwarden st	status' 'memwarden --root /tmp dro	drop-caches' 'memwarden help doc	doctor' \
        'memwarden zram 	status setup off' 'memwarden completion 	bash zsh fish' 'memwarden --ver	--version'; do
        if grep -qF "$want" "$T/b.out"; then ok "bash: '${want%%	*}' completes"
        else fail "bash: '${want%%	*}' completes" "$(grep -F "${want%%	*}	" "$T/b.out")"; fi
    done
else
    skip "bash completion" "bash not installed"
fi

# ---- fish ----
if command -v fish >/dev/null 2>&1; then
    "$MW_BIN" completion fish >"$T/c.fish"
    { echo "source $T/c.fish"
      awk '{ print "echo \"@" $1 " " $2 "\"; complete -C \"memwarden " $1 " " substr($2, 1, length($2) - 1) "\"" }' "$T/opts"
      awk '{ print "echo \"@" $1 " " $2 " " $3 "\"; complete -C \"memwarden " $1 " " $2 " \"" }' "$T/values"
    } >"$T/f.fish"
    fish "$T/f.fish" >"$T/f.out" 2>"$T/f.err"
    # each "@CMD --opt" header, then the completions (word TAB description)
    missing=$(awk '/^@/ { if (key != "" && !found) print key; key = substr($0, 2); found = 0; n = split(key, k, " "); next }
        { split($0, w, "\t"); if ((n == 2 && w[1] == k[2]) || (n == 3 && w[1] == k[3])) found = 1 }
        END { if (key != "" && !found) print key }' "$T/f.out" | head -20)
    if [ -z "$missing" ] && [ "$(grep -c '^@' "$T/f.out")" -ge "$n" ]; then ok "fish: every option of every command completes, and the words"
    else fail "fish: every option of every command completes, and the words" "missing: $missing" "$(head -3 "$T/f.err")"; fi
else
    skip "fish completion" "fish not installed"
fi

# ---- zsh ----
if command -v zsh >/dev/null 2>&1; then
    mkdir "$T/zf"
    "$MW_BIN" completion zsh >"$T/zf/_memwarden"
    # One interactive zsh on a pty: each line typed, TAB, then ^X prints the
    # buffer between @@@ marks (written "@@""@" so the echo of the
    # definition is not taken for it); ^U clears the line for the next.
    cat >"$T/z.zsh" <<'EOF'
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PS1='' PROMPT='' RPROMPT=''; fpath=($1 \$fpath); autoload -Uz compinit; compinit -u -D; unsetopt beep"
zpty -w z "memwarden() { :; }; zle-show() { print -rn -- \"@@\"\"@\$BUFFER@@\"\"@\"; }; zle -N zle-show; bindkey '^X' zle-show"
zpty -w z "zstyle ':completion:*' menu no; setopt noautomenu nolistambiguous nolistbeep"
while IFS= read -r line; do
    zpty -w -n z "$line"$'\t\x18'
    out=
    for i in {1..100}; do
        zpty -r -t z chunk && out+=$chunk
        [[ $out == *'@@@'*'@@@'* ]] && break
        sleep 0.05
    done
    out=${out#*@@@}
    print -r -- "$line	${out%%@@@*}"
    zpty -w -n z $'\x15'
done
zpty -d z
EOF
    cat "$T/opts" "$T/values" >"$T/z.want"
    # the whole word typed (a prefix may fit two: --pool, --pools and
    # --pool-dir): zsh adds the ' ' or '=' after a word only when it knows it
    awk '{ print "memwarden " $0 }' "$T/z.want" >"$T/z.in"
    timeout 300 zsh -f "$T/z.zsh" "$T/zf" <"$T/z.in" >"$T/z.out" 2>"$T/z.err"
    # the buffer after TAB: the option with its '=' or ' ', the value with ' '
    missing=$(awk -F'\t' 'NR == FNR { want[FNR] = $0; next }
        { split(want[FNR], k, " "); buf = $2;
          if (k[3] != "") { if (buf != "memwarden " want[FNR] " ") print want[FNR] " -> " buf }
          else if (buf !~ ("memwarden " k[1] " " k[2] "[= ]$")) print want[FNR] " -> " buf }' \
        "$T/z.want" "$T/z.out" | head -20)
    got=$(wc -l <"$T/z.out")
    if [ -z "$missing" ] && [ "$got" -eq "$(wc -l <"$T/z.in")" ]; then ok "zsh: every option of every command completes, and the words"
    else fail "zsh: every option of every command completes, and the words" "$got of $(wc -l <"$T/z.in") lines; missing: $missing" "$(head -3 "$T/z.err")"; fi
else
    skip "zsh completion" "zsh not installed"
fi

"$MW_BIN" completion tcsh >/dev/null 2>&1
[ $? -eq 2 ] && ok "completion tcsh: usage error" || fail "completion tcsh: usage error"

# ---- one exit table ----
"$MW_BIN" --help >"$T/help"
if grep -q '^  0    success' "$T/help" && grep -q '^  2    usage error' "$T/help" &&
    grep -q '^  3    a check ran and found something' "$T/help"; then ok "memwarden --help has the exit table"
else fail "memwarden --help has the exit table"; fi
bad=""
while read -r c; do
    "$MW_BIN" "$c" --help | sed -n '/^EXIT STATUS/,/^[A-Z]/p' >"$T/exit"
    # the statuses listed are the table's; 2 is the usage error everywhere
    other=$(grep -oE '^    [0-9]+ ' "$T/exit" | tr -d ' ' | grep -vxE '0|1|2|3|130')
    grep -q '^    2    usage error' "$T/exit" && [ -z "$other" ] || bad="$bad $c"
done <"$T/cmds"
if [ -z "$bad" ]; then ok "every command's EXIT STATUS is the table's"; else fail "every command's EXIT STATUS is the table's" "$bad"; fi
