#!/bin/sh
# Writes the tokenscope-cli(1) man page from the program's own --help texts,
# so the manual can never disagree with the program.
#   make-man.sh TOKENSCOPE_CLI VERSION > tokenscope-cli.1
set -eu
cli=$1
version=$2
esc() { sed -e 's/\\/\\e/g' -e 's/^\./\\\&./' -e "s/^'/\\\\\&'/"; }

cat <<HEAD
.TH TOKENSCOPE-CLI 1 "" "TokenScope $version" "User Commands"
.SH NAME
tokenscope-cli \- explore and tune how vision-language models spend tokens on images
.SH SYNOPSIS
.B tokenscope-cli
.I COMMAND
[\fIOPTIONS\fR] ...
.SH DESCRIPTION
A ViT cuts an image into patches and every patch becomes a token. TokenScope lays the patch
grid over an image, runs the token compression methods vision-language models use (pooling,
token merging, pruning, resampling, adaptive patching), measures what each keeps (PSNR, SSIM,
feature retention), sweeps quality against compression, and summarises whole datasets.
This is the headless command line; \fBtokenscope\fR(1) is the desktop application.
.PP
Every command accepts \fB\-\-settings\fR \fIFILE\fR: a settings file written by
\fBtokenscope-cli settings export\fR or the application, recording every choice so that a
result can be reproduced; options given on the command line override it.
.SH COMMANDS
.nf
HEAD
"$cli" --help | sed -n '/^Commands:/,/^$/p' | sed 1d | esc
echo ".fi"
for cmd in $("$cli" --help | sed -n '/^Commands:/,/^$/p' | sed 1d | awk 'NF {print $1}'); do
  echo ".SH \"$(echo "$cmd" | tr a-z A-Z)\""
  echo ".nf"
  "$cli" "$cmd" --help-all 2>/dev/null | esc || true
  echo ".fi"
done
cat <<TAIL
.SH EXIT STATUS
.TP
.B 0
success
.TP
.B 1
usage error: an unknown option, a value out of range, a missing argument
.TP
.B 2
input error: a file that cannot be read or is not what it claims (the message names it)
.TP
.B 3
partial failure: a dataset run in which some images could not be analysed (recorded in
images.jsonl with their error)
.SH FILES
.TP
.I OUT/images.jsonl
one JSON object per analysed image, appended as each finishes (\fBdataset\fR)
.TP
.I OUT/summary.json, OUT/summary.csv
merged statistics and recommendations (\fBsummarize\fR)
.SH SEE ALSO
.BR tokenscope (1)
TAIL
