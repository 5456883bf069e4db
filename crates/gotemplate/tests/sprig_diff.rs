//! Sprig functions compared with real Helm 3.17.3 and 4.1.4.
//!
//! Every case is an expression rendered by Helm and by this crate over the same values. Helm
//! runs once per version for all the cases that succeed: each case is a `define`, and the
//! chart prints `include "caseN" . | b64enc` per case, so the raw text of each case (newlines,
//! `<no value>` and all) survives Helm's YAML parsing of the output. Cases that must fail run
//! one Helm call each, and the crate must fail them too.
//!
//! `STRATA_TEST_HELM3` and `STRATA_TEST_HELM4` name the helm binaries; a missing one fails
//! the test (CI sets both).

use base64::Engine;
use gotemplate::template::Templates;
use gotemplate::{FuncMap, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// The values file, as JSON (which Helm reads as YAML).
const VALUES: &str = r#"{
  "n": 3, "f": 1.9, "neg": -2.5, "big": 1000000, "huge": 12345678901234567890,
  "s": "12", "oct": "0777", "e": "", "z": 0, "t": true, "fa": false, "nul": null,
  "l": [], "l3": [1, "two", 3.5, null], "m": {},
  "d": {"a": {"b": {"c": 1}}, "x": "str", "nn": null, "l": [1, 2]},
  "text": "line1\nline2\n", "words": "hello wide world"
}"#;

/// Expressions that render in Helm; the output must be byte-identical.
const CASES: &[&str] = &[
    // default, empty, coalesce, ternary, all, any
    r#"{{ default "d" .Values.nul }}|{{ default "d" .Values.z }}|{{ default "d" .Values.e }}|{{ default "d" .Values.fa }}|{{ default "d" .Values.l }}|{{ default "d" .Values.m }}|{{ default "d" .Values.missing }}|{{ default "d" .Values.n }}|{{ default "d" .Values.t }}|{{ default "d" }}"#,
    r#"{{ empty .Values.nul }}|{{ empty .Values.z }}|{{ empty .Values.l3 }}|{{ empty .Values.d }}|{{ empty 0.0 }}|{{ empty "x" }}"#,
    r#"{{ coalesce .Values.nul .Values.e 0 "x" 1 }}|{{ coalesce .Values.nul }}|{{ coalesce }}"#,
    r#"{{ ternary "yes" "no" true }}|{{ ternary "yes" "no" .Values.fa }}|{{ all 1 "a" (list 1) }}|{{ all 1 "" }}|{{ any 0 "" nil }}|{{ any 0 "a" }}|{{ all }}|{{ any }}"#,
    // strings
    r#"{{ quote "a\"b" nil 1 .Values.f }}|{{ quote .Values.nul }}|{{ squote "x" nil 2.5 .Values.l3 }}|{{ quote "tab\there" "é\u0001" }}"#,
    r#"{{ trim "  a b \n" }}|{{ trimAll "$-" "$-a-$" }}|{{ trimPrefix "ab" "abab" }}|{{ trimSuffix "b" "abb" }}|{{ trimall "x" "xax" }}"#,
    r#"{{ trunc 3 "abcdef" }}|{{ trunc -3 "abcdef" }}|{{ trunc -10 "abc" }}|{{ trunc 10 "abc" }}|{{ trunc 0 "abc" }}|{{ trunc 63 "a-very-long-release-name-that-goes-on-and-on-beyond-the-limit-of-dns" }}"#,
    r#"{{ upper "héllo ß" }}|{{ lower "HÉLLO" }}|{{ title "hello wORLD foo_bar a-b 1st x.y" }}|{{ untitle "Hello World" }}|{{ swapcase "This Is A.Test" }}"#,
    r#"{{ camelcase "_" }}|{{ camelcase "a" }}|{{ camelcase "hello_World-foo bar" }}|{{ camelcase "_complex__case_" }}|{{ camelcase "HTTPServer" }}|{{ camelcase "GOLANG_IS_GREAT" }}|{{ camelcase "fooBAR baz" }}|{{ camelcase "x__" }}"#,
    r#"{{ snakecase "HTTPServer2xx" }}|{{ kebabcase "Hello World!" }}|{{ snakecase "a.b.C" }}|{{ snakecase "  x  " }}|{{ snakecase "FirstName" }}|{{ kebabcase "Bld4Floor3rd" }}|{{ snakecase "already_snake" }}|{{ kebabcase "myApp-v2" }}"#,
    r#"{{ replace "a" "b" "banana" }}|{{ replace "" "-" "abc" }}|{{ contains "an" "banana" }}|{{ hasPrefix "ba" "banana" }}|{{ hasSuffix "x" "banana" }}"#,
    r#"{{ indent 2 .Values.text }}|{{ nindent 4 "a\nb" }}|{{ indent 0 "x" }}|{{ nindent 2 "" }}"#,
    r#"{{ cat "a" nil 1 (list 1) .Values.f }}|{{ nospace " a b\tc " }}|{{ repeat 3 "ab" }}|{{ repeat 0 "x" }}|{{ cat }}"#,
    r#"{{ substr 1 3 "abcdef" }}|{{ substr -1 2 "abcdef" }}|{{ substr 2 -1 "abcdef" }}|{{ substr 2 99 "abcdef" }}|{{ substr 0 0 "abc" }}"#,
    r#"{{ abbrev 5 "hello world" }}|{{ abbrev 3 "hello" }}|{{ abbrev 20 "hello" }}|{{ abbrevboth 5 10 "abcdefghijklmnopqrstuvwxyz" }}|{{ initials .Values.words }}|{{ plural "one" "many" 1 }}|{{ plural "one" "many" 2 }}"#,
    r#"{{ wrap 5 "hello world foo" }}|{{ wrap 3 "abcdefgh ij" }}|{{ wrapWith 3 "-" "abcdefgh ij" }}|{{ wrap 80 "" }}"#,
    r#"{{ toString 1e6 }}|{{ toString .Values.big }}|{{ toString .Values.nul }}|{{ toString .Values.l3 }}|{{ toString .Values.d.a }}|{{ toString true }}|{{ toString 12 }}"#,
    r#"{{ split "," "a,b" }}|{{ splitn "," 2 "a,b,c" }}|{{ splitList "," "" }}|{{ splitList "," "a,,b" }}|{{ len (splitList "" "abc") }}|{{ (split "." "x.y")._1 }}|{{ splitn "," -1 "a,b" }}|{{ splitn "," 0 "a,b" }}"#,
    r#"{{ toStrings (list 1 nil "a" 2.5) }}|{{ toStrings "x" }}|{{ toStrings nil }}|{{ join "-" (list 1 2.5 nil true) }}|{{ join "," "single" }}|{{ join "," .Values.l3 }}"#,
    // conversions (spf13/cast)
    r#"{{ int64 "012" }}|{{ int "1_000" }}|{{ int "12.00" }}|{{ int "12.5" }}|{{ int "0x1F" }}|{{ int "08" }}|{{ int .Values.f }}|{{ int .Values.neg }}|{{ int true }}|{{ int nil }}|{{ int (list 1) }}|{{ int .Values.huge }}"#,
    r#"{{ float64 "1.5" }}|{{ float64 "1_000.5" }}|{{ float64 "1e400" }}|{{ float64 "x" }}|{{ float64 3 }}|{{ float64 "inf" }}|{{ float64 true }}|{{ float64 .Values.big }}"#,
    r#"{{ atoi "42" }}|{{ atoi "4x" }}|{{ atoi "99999999999999999999" }}|{{ atoi "-7" }}|{{ atoi "0x10" }}|{{ toDecimal "0777" }}|{{ toDecimal 777 }}|{{ toDecimal .Values.big }}|{{ toDecimal "9" }}"#,
    // integer and float arithmetic
    r#"{{ add 1 1.5 }}|{{ add "3" .Values.f }}|{{ add }}|{{ add1 .Values.f }}|{{ sub 1 "5" }}|{{ div 7 2 }}|{{ div -7 2 }}|{{ mod -7 3 }}|{{ mul 2 3 4 }}|{{ mul 5 }}"#,
    r#"{{ add 9223372036854775807 1 }}|{{ mul 9223372036854775807 2 }}|{{ sub -9223372036854775808 1 }}|{{ add .Values.huge 0 }}"#,
    r#"{{ max 1 "5" 3.7 }}|{{ min 1 -2 .Values.neg }}|{{ biggest 3 }}|{{ maxf 1 2.5 "3.5" }}|{{ minf 1 .Values.neg }}"#,
    r#"{{ addf 0.1 0.2 }}|{{ divf 1 3 }}|{{ divf 2 3 }}|{{ mulf 1.1 3 }}|{{ subf 1 0.9 }}|{{ add1f 0.1 }}|{{ addf }}|{{ subf 10 1 2 }}|{{ divf 10 4 }}"#,
    r#"{{ divf 1e31 3 }}|{{ divf 9.1e38 3 }}|{{ divf -1e300 7 }}|{{ divf 1 3e20 }}|{{ divf 2 3e16 }}|{{ divf 1e308 1e-308 }}|{{ divf 1e-300 1e300 }}|{{ divf 5e-17 1 }}|{{ divf 1.5e-16 1 }}|{{ addf 1e300 1e-300 }}|{{ mulf 1e200 1e200 }}|{{ subf 0.3 0.1 0.2 }}"#,
    r#"{{ round 2.555 2 }}|{{ round 2.5 0 }}|{{ round 1.234 1 0.3 }}|{{ round -2.5 0 }}|{{ floor "1.7" }}|{{ ceil 1.2 }}|{{ floor .Values.neg }}|{{ round .Values.big 0 }}"#,
    r#"{{ until 3 }}|{{ until -3 }}|{{ until 0 }}|{{ untilStep 0 10 3 }}|{{ untilStep 10 0 -4 }}|{{ untilStep 0 10 -1 }}|{{ untilStep 5 5 1 }}|{{ untilStep 0 10 0 }}"#,
    r#"{{ untilStep 10 0 -9223372036854775808 }}|{{ seq 9223372036854775806 9223372036854775807 }}|{{ seq 5 }}|{{ seq 3 1 }}|{{ seq 1 2 7 }}|{{ seq 0 }}|{{ seq 7 -2 1 }}|{{ seq 1 -2 7 }}|{{ seq }}|{{ seq -2 }}"#,
    // lists
    r#"{{ list 1 "a" nil }}|{{ tuple }}|{{ append (list 1) 2 }}|{{ push .Values.l3 "x" }}|{{ prepend (list 1) 0 }}|{{ .Values.l3 }}"#,
    r#"{{ first (list) }}|{{ first .Values.l3 }}|{{ last .Values.l3 }}|{{ rest (list) }}|{{ rest .Values.l3 }}|{{ initial .Values.l3 }}|{{ reverse .Values.l3 }}"#,
    r#"{{ compact (list 0 1 "" "a" nil false (list)) }}|{{ uniq (list 1 1 "1" 2 (list 1) (list 1)) }}|{{ without (list 1 2 3 2) 2 3 }}|{{ has 2 (list 1 2) }}|{{ has "2" (list 1 2) }}|{{ has 1 nil }}"#,
    r#"{{ slice (list 1 2 3) 1 }}|{{ slice (list 1 2 3) }}|{{ slice (list 1 2 3) 0 2 }}|{{ slice (list) }}|{{ slice (list 1 2 3) "1" 2.9 }}"#,
    r#"{{ concat (list 1) (list 2 3) .Values.l }}|{{ concat }}|{{ chunk 2 (list 1 2 3) }}|{{ chunk 3 (list 1 2 3) }}|{{ chunk 2 (list) }}"#,
    r#"{{ sortAlpha (list "b" 1 "a" "B" 10 2) }}|{{ sortAlpha "x" }}|{{ sortAlpha nil }}|{{ sortAlpha .Values.l3 }}"#,
    // dicts
    r#"{{ dict "a" 1 "b" }}|{{ dict 1 2 }}|{{ dict }}|{{ get (dict "a" 1) "a" }}|{{ get (dict "a" 1) "b" }}|{{ get nil "a" }}|{{ hasKey .Values.d "x" }}|{{ hasKey .Values.d "nn" }}|{{ hasKey nil "x" }}"#,
    r#"{{ $d := dict "a" 1 }}{{ $_ := set $d "b" 2 }}{{ $d }}|{{ unset $d "a" }}|{{ $d }}|{{ unset nil "a" }}"#,
    r#"{{ pluck "a" (dict "a" 1) (dict "b" 2) (dict "a" 3) }}|{{ keys (dict "a" 1) (dict "b" 2) }}|{{ values (dict "k" "v") }}|{{ pick (dict "a" 1 "b" 2) "a" "z" }}|{{ omit (dict "a" 1 "b" 2) "a" }}"#,
    r#"{{ merge (dict "a" "" "b" false "c" (list) "d" (dict "x" 1) "k" "keep" "z" 0) (dict "a" "A" "b" true "c" (list 1) "d" (dict "x" 2 "y" 3) "e" nil "k" "new" "z" 5 "n" (dict "q" 1)) }}"#,
    r#"{{ mergeOverwrite (dict "a" "x" "d" (dict "x" 1 "w" 0) "l" (list 1) "s" "str") (dict "a" nil "d" (dict "y" 3 "w" 1) "l" (list 2) "s" (dict "m" 1)) }}"#,
    r#"{{ $dst := dict "n" (dict "a" 1) }}{{ $_ := merge $dst (dict "n" (dict "b" 2)) (dict "n" (dict "a" 9 "c" 3)) }}{{ $dst }}|{{ merge nil (dict "a" 1) }}|{{ merge (dict "a" 1) nil }}|{{ merge (dict "x" "str") (dict "x" (dict "y" 1)) }}|{{ merge (dict "x" (dict)) (dict "x" "s") }}"#,
    r#"{{ $c := deepCopy .Values.d }}{{ $_ := set $c.a "new" 1 }}{{ .Values.d.a }}|{{ $c.a }}|{{ deepCopy .Values.l3 }}"#,
    r#"{{ dig "a" "b" "c" "def" .Values.d }}|{{ dig "a" "zz" "def" .Values.d }}|{{ dig "a" "b" "def" .Values.d }}|{{ dig "nn" "def" .Values.d }}|{{ dig "missing" "x" "def" .Values.d }}"#,
    // reflection
    r#"{{ typeOf 1 }}|{{ typeOf .Values.n }}|{{ typeOf "s" }}|{{ typeOf .Values.l3 }}|{{ typeOf .Values.d }}|{{ typeOf nil }}|{{ typeOf true }}|{{ typeIs "string" "x" }}|{{ typeIsLike "float64" 1.5 }}"#,
    r#"{{ kindOf nil }}|{{ kindOf .Values.d }}|{{ kindOf .Values.l3 }}|{{ kindOf 1 }}|{{ kindIs "map" .Values.m }}|{{ kindIs "slice" .Values.l }}|{{ deepEqual (list 1 (dict "a" 1)) (list 1 (dict "a" 1)) }}|{{ deepEqual 1 1.0 }}|{{ deepEqual .Values.n 3.0 }}"#,
    // encodings and digests
    r#"{{ b64enc "hello" }}|{{ b64dec "aGVsbG8=" }}|{{ b64dec "aGVsbG8" }}|{{ b64dec "aGV!bG8=" }}|{{ b64dec "aGVsbG8=x" }}|{{ b64dec "aGVs\nbG8=" }}|{{ b64dec "a===" }}|{{ b64dec "aGU=" }}"#,
    r#"{{ b32enc "hello" }}|{{ b32enc "hi" }}|{{ b32dec "NBSWY3DP" }}|{{ b32dec "NBUQ====" }}|{{ b32dec "NBUQ" }}|{{ b32dec "NB!Q====" }}|{{ b32dec "N=======" }}"#,
    r#"{{ sha1sum "hello" }}|{{ sha256sum "hello" }}|{{ sha512sum "" }}|{{ adler32sum "hello" }}|{{ adler32sum "" }}"#,
    // regular expressions (Go RE2)
    r#"{{ regexMatch "^[a-z]+\\d$" "abc1" }}|{{ regexMatch "(" "x" }}|{{ regexMatch "\\d" "٣" }}|{{ regexMatch "\\w+" "é" }}|{{ regexMatch "(?i)ABC" "xabcx" }}|{{ regexMatch "\\bfoo\\b" "a foo b" }}"#,
    r#"{{ regexFind "[0-9]+" "ab123cd45" }}|{{ regexFind "x" "abc" }}|{{ regexFindAll "[0-9]" "a1b2c3" -1 }}|{{ regexFindAll "[0-9]" "a1b2c3" 2 }}|{{ regexFindAll "[0-9]" "a1b2c3" 0 }}|{{ regexFindAll "a*" "baaab" -1 }}"#,
    r#"{{ regexReplaceAll "(a)(?P<x>b)" "abab" "${x}$1x" }}|{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }}|{{ regexReplaceAllLiteral "a(x*)b" "-ab-axxb-" "${1}" }}|{{ regexReplaceAll "\\s+" "a  b\tc" "_" }}|{{ regexReplaceAll "" "abc" "-" }}"#,
    r#"{{ regexSplit "a*" "baaab" -1 }}|{{ regexSplit "," "a,b,c" 2 }}|{{ regexSplit "," "a,b,c" 0 }}|{{ regexSplit "," "" -1 }}|{{ regexSplit "" "abc" -1 }}|{{ regexSplit "x*" "axbxc" -1 }}|{{ regexQuoteMeta "a.b#-[x]$" }}"#,
    r#"{{ regexFindAll "[[:alpha:]]+" "ab1cd" -1 }}|{{ regexFindAll "[^\\s]+" "a b" -1 }}|{{ regexReplaceAll "[a&&b]" "a&b" "X" }}|{{ regexFindAll "[\\w.-]+@" "john.doe-x@y" -1 }}"#,
    // paths
    r#"{{ base "/a/b/" }}|{{ base "" }}|{{ base "///" }}|{{ dir "/a/b" }}|{{ dir "a" }}|{{ clean "a//b/./c/../d/" }}|{{ clean "/../a" }}|{{ ext "a/b.tar.gz" }}|{{ ext "a.b/c" }}|{{ isAbs "/x" }}|{{ isAbs "x" }}|{{ osBase "/x/y" }}"#,
    // JSON variants
    r#"{{ toPrettyJson .Values.d }}|{{ toPrettyJson (list) }}|{{ toPrettyJson "<a&b>" }}|{{ toPrettyJson (float64 "NaN") }}|{{ mustToPrettyJson (dict "k" (list 1 (dict))) }}"#,
    r#"{{ toRawJson (dict "h" "<a href='x'>&amp;</a>" "n" .Values.f "l" .Values.l3) }}|{{ mustToRawJson "\u003c" }}|{{ mustFromJson "{\"a\": [1, 2.5, null]}" }}|{{ mustFromJson "\"s\"" }}|{{ typeOf (mustFromJson "[1]") }}"#,
    // dates (UTC, as the process's local zone is here)
    r#"{{ date "2006-01-02T15:04:05Z07:00" 1714557845 }}|{{ htmlDate 0 }}|{{ dateInZone "Mon Jan _2 15:04:05 MST 2006 .000 -07:00" 1714557845 "UTC" }}|{{ date_in_zone "3:04PM 06 002 __2 January Monday" -86400 "" }}|{{ htmlDateInZone 951782400 "UTC" }}|{{ date "_2006 Z0700 Z07 -0700 -07 pm" 1714557845 }}"#,
    r#"{{ typeOf now }}|{{ len (date "2006" now) }}|{{ regexMatch "^[0-9]{10}$" (unixEpoch now) }}|{{ now | date "2006-01-02" | len }}|{{ dateModify "1h" now | typeOf }}|{{ sub (dateModify "-1.5h" now | unixEpoch | atoi) (now | unixEpoch | atoi) | add 5400 | lt 2 }}|{{ len (date "2006" .Values.f) }}|{{ ago now }}|{{ now.Year | lt 2000 }}|{{ now.UTC | typeOf }}|{{ (dateModify "x" now) | typeOf }}"#,
    r#"{{ duration "95" }}|{{ duration "-3600" }}|{{ duration "x" }}|{{ duration .Values.n }}|{{ duration "9999999999999" }}|{{ durationRound "2h30m" }}|{{ durationRound "-90s" }}|{{ durationRound "" }}|{{ durationRound "800h" }}|{{ durationRound "9000h" }}|{{ durationRound "1s" }}|{{ durationRound .Values.f }}|{{ durationRound (dateModify "-49h" now) }}"#,
    r#"{{ toDate "2006-01-02" "2024-05-01" }}|{{ toDate "2006-01-02" "bad" }}|{{ toDate "2006-01-02T15:04:05Z07:00" "2024-05-01T10:04:05Z" | unixEpoch }}|{{ toDate "2006-01-02T15:04:05.999999999Z07:00" "2024-05-01T10:04:05.123Z" | date "15:04:05.000" }}|{{ toDate "Jan 2, 2006 3:04pm" "feb 29, 2024 1:05pm" }}|{{ toDate "Jan 2, 2006 3:04pm" "Feb 29, 2024 1:05PM" }}"#,
    r#"{{ toDate "2006-01-02 15:04:05" "2024-05-01 10:04:05.5" }}|{{ toDate "02/01/06" "31/12/99" }}|{{ toDate "2006-01-02" "2023-02-29" }}|{{ toDate "2006 002" "2024 060" }}|{{ toDate "Monday, 02-Jan-06 15:04:05 MST" "Wednesday, 01-May-24 10:04:05 UTC" }}|{{ toDate "2006-01-02" "2024-05-01" | date "Mon" }}|{{ toDate "2006-01-02 -0700" "2024-05-01 +0000" }}|{{ toDate "15:04" "7:30" }}|{{ toDate "2006-1-2" "2024-5-1" }}|{{ toDate "2006-01-02" "2024-05-01 extra" }}|{{ toDate "2006  01" "2024 05" }}|{{ mustToDate "_2 Jan" " 1 Feb" }}"#,
    // AES: decryption of a fixed text, the round trip, and the empty cases
    r#"{{ decryptAES "secret" "bNwLllJevC9xLwhTBaausNk1XRYIKJon/jBNbX1B4SKBDdHMlVJmEiPsOYZ6s8/x" }}|{{ decryptAES "wrong" "bNwLllJevC9xLwhTBaausNk1XRYIKJon/jBNbX1B4SKBDdHMlVJmEiPsOYZ6s8/x" | len | lt 0 }}|{{ encryptAES "k" "some text" | decryptAES "k" }}|{{ encryptAES "k" "" }}|{{ decryptAES "k" "" }}|{{ encryptAES (repeat 40 "p") "x" | decryptAES (repeat 32 "p") }}|{{ encryptAES "k" "0123456789abcdef" | len }}"#,
    // password hashes: random salt, so their shape
    r#"{{ bcrypt (repeat 73 "a") }}|{{ htpasswd "a:b" "x" }}|{{ bcrypt "x" | len }}|{{ htpasswd "u" "p" | len }}|{{ bcrypt "" | substr 0 7 }}|{{ htpasswd "user" "pw" | substr 0 12 }}"#,
    // the must forms and os aliases
    r#"{{ mustFirst (list 1 2) }}|{{ mustLast (list 1 2) }}|{{ mustRest (list 1 2) }}|{{ mustInitial (list 1 2) }}|{{ mustReverse (list 1 2) }}|{{ mustPrepend (list 1) 0 }}|{{ mustPush (list 1) 2 }}|{{ mustAppend (list 1) 2 }}|{{ mustUniq (list 1 1) }}|{{ mustWithout (list 1 2) 1 }}|{{ mustHas 1 (list 1) }}|{{ mustSlice (list 1 2 3) 1 2 }}|{{ mustChunk 1 (list 1 2) }}|{{ mustCompact (list 0 1) }}|{{ mustMerge (dict "a" 1) (dict "b" 2) }}|{{ mustMergeOverwrite (dict "a" 1) (dict "a" 2) }}|{{ mustDeepCopy (dict "a" (list 1)) }}"#,
    r#"{{ mustRegexMatch "^a" "ab" }}|{{ mustRegexFind "b+" "abb" }}|{{ mustRegexFindAll "b" "abb" -1 }}|{{ mustRegexReplaceAll "b" "abb" "c" }}|{{ mustRegexReplaceAllLiteral "b" "abb" "$0" }}|{{ mustRegexSplit "b" "abba" -1 }}|{{ osClean "a//b/../c" }}|{{ osDir "/a/b" }}|{{ osExt "x.tar.gz" }}|{{ osIsAbs "/" }}|{{ osIsAbs "a" }}"#,
    // URLs
    r#"{{ urlParse "HTTPS://user:p%40ss@example.com:8443/a%20b/c?x=1&y=2#frag%21" }}|{{ urlParse "mailto:a@b" }}|{{ urlParse "/rel/path?q" }}|{{ urlParse "http://[::1]:80/" }}|{{ (urlParse "redis://:secret@redis:6379/0").userinfo }}"#,
    r#"{{ urlJoin (dict "scheme" "https" "host" "example.com:8443" "path" "/a b" "query" "x=1" "fragment" "f g" "userinfo" "u:p@ss") }}|{{ urlJoin (dict "path" "a:b") }}|{{ urlJoin (dict "scheme" "mailto" "opaque" "a@b") }}|{{ urlJoin (dict "host" "h" "path" "p") }}|{{ urlJoin (urlParse "http://a/b?c#d") }}"#,
    // random functions: only their shape is stable
    r#"{{ len (randAlphaNum 12) }}|{{ regexMatch "^[a-zA-Z0-9]{12}$" (randAlphaNum 12) }}|{{ regexMatch "^[a-zA-Z]{5}$" (randAlpha 5) }}|{{ regexMatch "^[0-9]{5}$" (randNumeric 5) }}|{{ len (randAscii 7) }}|{{ randAlphaNum 0 }}|{{ len (randBytes 6) }}"#,
    r#"{{ regexMatch "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$" uuidv4 }}|{{ len (shuffle "abcdef") }}|{{ sortAlpha (splitList "" (shuffle "cab")) }}|{{ lt (randInt 3 5) 5 }}|{{ getHostByName "localhost" }}|{{ hello }}"#,
];

/// Expressions that fail in Helm; they must fail here too.
const FAILING: &[&str] = &[
    r#"{{ trunc .Values.n "abc" }}"#,
    r#"{{ indent .Values.n "x" }}"#,
    r#"{{ nindent .Values.n "x" }}"#,
    r#"{{ repeat .Values.n "x" }}"#,
    r#"{{ substr .Values.n 1 "abc" }}"#,
    r#"{{ until .Values.n }}"#,
    r#"{{ splitn "," .Values.n "a,b" }}"#,
    r#"{{ wrap .Values.n "abc" }}"#,
    r#"{{ repeat -1 "x" }}"#,
    r#"{{ upper 1 }}"#,
    r#"{{ upper nil }}"#,
    r#"{{ upper .Values.missing }}"#,
    r#"{{ atoi 1 }}"#,
    r#"{{ first nil }}"#,
    r#"{{ first "abc" }}"#,
    r#"{{ last (dict) }}"#,
    r#"{{ set nil "a" 1 }}"#,
    r#"{{ hasKey .Values.l "a" }}"#,
    r#"{{ dig "a" "b" "x" (dict "a" "str") }}"#,
    r#"{{ dig "a" "x" nil }}"#,
    r#"{{ dig "a" "x" }}"#,
    r#"{{ dig "nn" "x" "def" .Values.d }}"#,
    r#"{{ dig 1 "def" .Values.d }}"#,
    r#"{{ div 1 0 }}"#,
    r#"{{ mod 1 0 }}"#,
    r#"{{ substr 2 1 "abc" }}"#,
    r#"{{ substr -1 9 "abc" }}"#,
    r#"{{ regexFind "(" "x" }}"#,
    r#"{{ regexReplaceAll "[" "x" "y" }}"#,
    r#"{{ ternary 1 2 "true" }}"#,
    r#"{{ fail "boom" }}"#,
    r#"{{ chunk 0 (list 1) }}"#,
    r#"{{ slice (list 1 2) 3 }}"#,
    r#"{{ concat (list 1) "x" }}"#,
    r#"{{ randInt 5 5 }}"#,
    r#"{{ divf 1 0 }}"#,
    r#"{{ trunc }}"#,
    r#"{{ default }}"#,
    r#"{{ pluck "a" (list 1) }}"#,
    r#"{{ round 1.5 .Values.n }}"#,
    r#"{{ deepCopy nil }}"#,
    r#"{{ dateModify "1h" 5 }}"#,
    r#"{{ mustDateModify "x" now }}"#,
    r#"{{ unixEpoch 5 }}"#,
    r#"{{ date 1 now }}"#,
    r#"{{ mustToDate "2006" "x" }}"#,
    r#"{{ mustToDate "2006-01-02" "2023-02-30" }}"#,
    r#"{{ toDate "2006" 2024 }}"#,
    r#"{{ regexMatch "(" 1 }}"#,
    r#"{{ mustRegexMatch "(" "x" }}"#,
    r#"{{ mustAppend nil 1 }}"#,
    r#"{{ mustDeepCopy nil }}"#,
    r#"{{ divf (mulf 1e200 1e200) 2 }}"#,
    r#"{{ decryptAES "k" "YQ==" }}"#,
    r#"{{ decryptAES "k" "not base64!" }}"#,
    r#"{{ decryptAES "k" "BwcHBwcHBwcHBwcHBwcHBxvX" }}"#,
    // Sprig's `slice` replaces Go's builtin, which would slice a string.
    r#"{{ slice "abcdef" 1 3 }}"#,
    r#"{{ mustFromJson "{" }}"#,
    r#"{{ toRawJson (float64 "NaN") }}"#,
    r#"{{ mustToPrettyJson (float64 "NaN") }}"#,
    r#"{{ urlParse "http://x:port/" }}"#,
    r#"{{ urlParse "%zz" }}"#,
    r#"{{ urlJoin (dict "host" 1) }}"#,
];

fn helm(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} must name a helm binary (scripts/install-helm installs them; CI sets it)")
    })
}

/// Writes a chart whose template prints every case's raw text as base64, one line each.
fn write_chart(dir: &Path, cases: &[&str], values: &str) {
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("Chart.yaml"),
        "apiVersion: v2\nname: c\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(dir.join("values.yaml"), values).unwrap();
    let mut defines = String::new();
    let mut body = String::new();
    for (i, case) in cases.iter().enumerate() {
        defines.push_str(&format!(
            "{{{{- define \"case{i}\" -}}}}{case}{{{{- end -}}}}\n"
        ));
        body.push_str(&format!(
            "case{i}: {{{{ include \"case{i}\" . | b64enc }}}}\n"
        ));
    }
    std::fs::write(dir.join("templates/_cases.tpl"), defines).unwrap();
    std::fs::write(dir.join("templates/cases.yaml"), body).unwrap();
}

fn helm_template(helm: &str, dir: &Path) -> Result<String, String> {
    let out = Command::new(helm)
        .args(["template", "r"])
        .arg(dir)
        .args(["-n", "ns", "--kube-version", "1.31.0"])
        .output()
        .expect("helm runs");
    if out.status.success() {
        Ok(String::from_utf8(out.stdout).unwrap())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The decoded text of each `caseN:` line of Helm's output.
fn helm_results(output: &str) -> BTreeMap<usize, String> {
    output
        .lines()
        .filter_map(|line| {
            let (key, b64) = line.strip_prefix("case")?.split_once(": ")?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .unwrap();
            Some((
                key.parse().unwrap(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ))
        })
        .collect()
}

/// The values as Helm hands them to templates: JSON numbers are float64.
fn values() -> Value {
    values_of(VALUES)
}

/// Helm reads the values file into float64s with Go's exact parsing; the encoders' JSON reader
/// does the same (serde_json's default float parsing is not always the nearest float64).
fn values_of(text: &str) -> Value {
    let values = gotemplate::encode::json::parse(text).unwrap();
    let mut top = BTreeMap::new();
    top.insert("Values".to_owned(), values);
    Value::map(top)
}

fn funcs() -> FuncMap {
    gotemplate::sprig::funcs()
}

fn native(case: &str, data: &Value, funcs: &FuncMap) -> Result<String, String> {
    let mut set = Templates::new();
    set.parse("case", case, &|name| funcs.contains(name))
        .map_err(|e| e.message)?;
    set.execute("case", data.clone(), funcs)
        .map_err(|e| e.message)
}

fn compare_with(var: &str) {
    let helm = helm(var);
    let dir = tempfile::tempdir().unwrap();
    write_chart(dir.path(), CASES, VALUES);
    let output = helm_template(&helm, dir.path()).unwrap_or_else(|e| panic!("helm failed: {e}"));
    let expected = helm_results(&output);
    assert_eq!(expected.len(), CASES.len(), "helm printed every case");
    let (data, funcs) = (values(), funcs());
    let mut mismatches = Vec::new();
    for (i, case) in CASES.iter().enumerate() {
        let got = native(case, &data, &funcs);
        if got.as_ref() != Ok(&expected[&i]) {
            mismatches.push(format!(
                "case{i}: {case}\n  helm:   {:?}\n  native: {got:?}",
                expected[&i]
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{var}: {} mismatches\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

fn failures_with(var: &str) {
    let helm = helm(var);
    let (data, funcs) = (values(), funcs());
    let mut wrong = Vec::new();
    for case in FAILING {
        let dir = tempfile::tempdir().unwrap();
        write_chart(dir.path(), &[case], VALUES);
        let in_helm = helm_template(&helm, dir.path());
        let here = native(case, &data, &funcs);
        if in_helm.is_ok() || here.is_ok() {
            wrong.push(format!("{case}\n  helm:   {in_helm:?}\n  native: {here:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{var}: expected both to fail\n{}",
        wrong.join("\n")
    );
}

/// Characters the generated strings are made of: word characters, separators Sprig's case
/// functions split on, punctuation, Unicode letters with odd case mappings, and spaces Go and
/// Rust might disagree on.
const ALPHABET: &[&str] = &[
    "a", "b", "Z", "Q", "x", "0", "7", " ", " ", "_", "-", ".", "/", ":", r"\t", r"\n", "!", "#",
    "$", "é", "É", "ß", "İ", "ǆ", "Ω", "ω", "中", "😀", r"\u00a0", r"\u2028", "ſ", "ﬀ", "Ǳ", "a1",
    "HTTP", "Server", "ID", "2xx", "  ",
];

/// xorshift64: the same strings on every run for a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// JSON string literals of generated text (the escapes are JSON's).
fn generated_strings(seed: u64, count: usize) -> Vec<String> {
    let mut rng = Rng(seed);
    (0..count)
        .map(|_| {
            let len = rng.below(12);
            (0..len)
                .map(|_| ALPHABET[rng.below(ALPHABET.len())])
                .collect()
        })
        .collect()
}

/// The string functions applied to generated string `I` of `.Values.g`.
const STRING_FUNCTIONS: &str = r#"{{ $s := index .Values.g I }}{{ title $s }}|{{ untitle $s }}|{{ upper $s }}|{{ lower $s }}|{{ swapcase $s }}|{{ camelcase $s }}|{{ snakecase $s }}|{{ kebabcase $s }}|{{ nospace $s }}|{{ initials $s }}|{{ trim $s }}|{{ quote $s }}|{{ squote $s }}|{{ wrap 4 $s }}|{{ wrapWith 3 "+" $s }}|{{ abbrev 6 $s }}|{{ trunc 5 $s }}|{{ trunc -4 $s }}|{{ substr 0 3 $s }}|{{ splitList " " $s }}|{{ b64enc $s }}|{{ b32enc $s }}|{{ regexReplaceAll "\\W+" $s "_" }}|{{ regexFindAll "\\w+" $s -1 }}|{{ regexSplit "\\s" $s -1 }}|{{ sha1sum $s }}|{{ adler32sum $s }}|{{ indent 2 $s }}|{{ replace " " "-" $s }}|{{ trimAll "a_ " $s }}|{{ sortAlpha (splitList "" $s) }}|{{ cat $s $s }}|{{ plural $s "m" 1 }}"#;

/// Generated strings through every string function, compared with Helm in one run.
fn generated_with(var: &str, seed: u64) {
    let strings: Vec<String> = generated_strings(seed, 150)
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect();
    compare_generated(var, seed, &strings, STRING_FUNCTIONS);
}

/// Renders `template` (with `I` standing for the index) for each JSON value of `.Values.g`,
/// in one Helm run, and compares every result.
fn compare_generated(var: &str, seed: u64, json_values: &[String], template: &str) {
    let helm = helm(var);
    let values = format!("{{\"g\": [{}]}}", json_values.join(", "));
    let cases: Vec<String> = (0..json_values.len())
        .map(|i| template.replace(" I }}", &format!(" {i} }}}}")))
        .collect();
    let case_refs: Vec<&str> = cases.iter().map(String::as_str).collect();
    let dir = tempfile::tempdir().unwrap();
    write_chart(dir.path(), &case_refs, &values);
    let output = helm_template(&helm, dir.path()).unwrap_or_else(|e| panic!("helm failed: {e}"));
    let expected = helm_results(&output);
    assert_eq!(expected.len(), cases.len(), "helm printed every case");
    let (data, funcs) = (values_of(&values), funcs());
    let mut mismatches = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let got = native(case, &data, &funcs);
        if got.as_ref() != Ok(&expected[&i]) {
            mismatches.push(format!(
                "seed {seed:#x} value {i} {}\n  helm:   {:?}\n  native: {got:?}",
                json_values[i], expected[&i]
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{var}: {} mismatches\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// Pieces of number-like text: signs, base prefixes, underscores, points, exponents, words.
const NUMBER_PIECES: &[&str] = &[
    "0",
    "1",
    "7",
    "8",
    "9",
    "12",
    "-",
    "+",
    "0x",
    "0o",
    "0b",
    "_",
    ".",
    "e",
    "E",
    "5",
    "00",
    "1e3",
    "F",
    " ",
    "99999999999999999999",
];

/// JSON values that Sprig's numeric functions cast: number-like strings, floats from the
/// values (float64 in Helm), booleans and null.
fn generated_numbers(seed: u64, count: usize) -> Vec<String> {
    let mut rng = Rng(seed);
    (0..count)
        .map(|_| match rng.below(6) {
            0 => format!("{}", (rng.next() % 2_000_001) as f64 / 8.0 - 125_000.0),
            1 => format!(
                "{:e}",
                (rng.next() % 1000) as f64 * 10f64.powi(rng.below(40) as i32 - 20)
            ),
            2 => ["true", "false", "null", "0", "-0.0", "1e21"][rng.below(6)].to_owned(),
            _ => {
                let len = 1 + rng.below(4);
                let s: String = (0..len)
                    .map(|_| NUMBER_PIECES[rng.below(NUMBER_PIECES.len())])
                    .collect();
                format!("\"{s}\"")
            }
        })
        .collect()
}

/// The numeric functions applied to generated value `I` of `.Values.g`.
const NUMBER_FUNCTIONS: &str = r#"{{ $v := index .Values.g I }}{{ int $v }}|{{ int64 $v }}|{{ float64 $v }}|{{ toString $v }}|{{ toDecimal $v }}|{{ add $v 1 }}|{{ add1 $v }}|{{ sub $v 2 }}|{{ mul $v 3 }}|{{ div $v 7 }}|{{ mod $v 7 }}|{{ max $v 0 }}|{{ min $v 0 }}|{{ maxf $v 0 }}|{{ minf $v 0 }}|{{ floor $v }}|{{ ceil $v }}|{{ round $v 2 }}|{{ round $v 0 }}|{{ addf $v 0.1 }}|{{ mulf $v 1.5 }}|{{ divf $v 3 }}|{{ subf $v 0.3 }}|{{ default "d" $v }}|{{ empty $v }}|{{ quote $v }}|{{ squote $v }}|{{ cat $v }}|{{ toStrings (list $v) }}|{{ kindOf $v }}|{{ typeOf $v }}"#;

/// Generated values through every numeric function, compared with Helm in one run.
fn generated_numbers_with(var: &str, seed: u64) {
    let values = generated_numbers(seed, 150);
    compare_generated(var, seed, &values, NUMBER_FUNCTIONS);
}

/// A JSON value of at most `depth` levels: the empty values mergo treats as unset, scalars,
/// lists, and maps over a few shared keys (so that two generated maps overlap).
fn generated_value(rng: &mut Rng, depth: usize) -> String {
    let leaves = [
        "null",
        "\"\"",
        "\"x\"",
        "0",
        "1.5",
        "true",
        "false",
        "[]",
        "[1, \"a\"]",
        "{}",
    ];
    if depth == 0 || rng.below(3) == 0 {
        return leaves[rng.below(leaves.len())].to_owned();
    }
    if rng.below(4) == 0 {
        let items: Vec<String> = (0..rng.below(3))
            .map(|_| generated_value(rng, depth - 1))
            .collect();
        return format!("[{}]", items.join(", "));
    }
    let mut members = Vec::new();
    for k in ["a", "b", "c", "d"] {
        if rng.below(2) == 0 {
            members.push(format!("\"{k}\": {}", generated_value(rng, depth - 1)));
        }
    }
    format!("{{{}}}", members.join(", "))
}

/// Pairs of generated maps `{"x": …, "y": …}`.
fn generated_pairs(seed: u64, count: usize) -> Vec<String> {
    let mut rng = Rng(seed);
    (0..count)
        .map(|_| {
            let x = generated_value(&mut rng, 3);
            let y = generated_value(&mut rng, 3);
            let wrap = |v: String| {
                if v.starts_with('{') {
                    v
                } else {
                    format!("{{\"a\": {v}}}")
                }
            };
            format!("{{\"x\": {}, \"y\": {}}}", wrap(x), wrap(y))
        })
        .collect()
}

/// The list and dict functions applied to generated pair `I` of `.Values.g`. `merge` changes
/// its first argument, so it merges into deep copies.
const COLLECTION_FUNCTIONS: &str = r#"{{ $p := index .Values.g I }}{{ merge (deepCopy $p.x) $p.y }}|{{ mergeOverwrite (deepCopy $p.x) $p.y }}|{{ merge (deepCopy $p.y) $p.x (dict "a" "z") }}|{{ $p.x }}|{{ keys $p.x | sortAlpha }}|{{ values $p.y | len }}|{{ pick $p.x "a" "b" }}|{{ omit $p.y "a" }}|{{ dig "a" "dflt" $p.x | toString }}|{{ hasKey $p.x "c" }}|{{ pluck "a" $p.x $p.y }}|{{ get $p.y "b" }}|{{ default "d" $p.x.a }}|{{ empty $p.y.b }}|{{ coalesce $p.x.a $p.x.b $p.y.a }}|{{ list $p.x.a $p.y.a | compact }}|{{ list $p.x.a $p.y.a $p.x.a | uniq }}|{{ has $p.x.a (list $p.y.a) }}|{{ without (list $p.x.a $p.y.a) $p.y.a }}|{{ deepEqual $p.x $p.y }}|{{ typeOf $p.x.a }}|{{ kindOf $p.y.b }}|{{ toString $p.x }}|{{ quote $p.y.a }}|{{ toStrings (list $p.x.a $p.y.c) }}|{{ join "," (list $p.x.a $p.y.a) }}|{{ sortAlpha (list $p.x.a $p.y.a "m") }}|{{ reverse (list $p.x.a $p.y.b) }}|{{ concat (list $p.x.a) (list $p.y.b) }}"#;

/// Patterns in Go's RE2 syntax whose meaning Rust's `regex` could read differently: Perl
/// classes, word boundaries, empty matches, lazy and alternation order, flags, POSIX and
/// Unicode classes.
const PATTERNS: &[&str] = &[
    "a*",
    r"\\d+",
    r"\\w",
    r"\\s*",
    r"\\b",
    "[^a-z]+",
    "(?i)x",
    "^",
    "$",
    ".",
    "x*?",
    "(a|ab)(c|bcd)?",
    r"\\pL+",
    "[[:punct:]]",
    "é|ß",
    r"(?m)^\\w",
    "(?s).",
    r"\\B",
    r"[\\d\\s]",
    "",
    r"\\W+",
    "[[:^alpha:]]",
    r"(\\w)(\\w)?",
    "Z+|0",
];

/// The regular expression functions applied to generated string `I` with pattern `P`.
const REGEX_FUNCTIONS: &str = r#"{{ $s := index .Values.g I }}{{ $p := "P" }}{{ regexMatch $p $s }}|{{ regexFind $p $s }}|{{ regexFindAll $p $s -1 }}|{{ regexFindAll $p $s 2 }}|{{ regexReplaceAll $p $s "<${0}>" }}|{{ regexReplaceAll $p $s "$1." }}|{{ regexReplaceAllLiteral $p $s "$1" }}|{{ regexSplit $p $s -1 }}|{{ regexSplit $p $s 2 }}"#;

fn generated_regex_with(var: &str, seed: u64) {
    let strings: Vec<String> = generated_strings(seed, 150)
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect();
    let template_for = |i: usize| {
        REGEX_FUNCTIONS.replace("\"P\"", &format!("\"{}\"", PATTERNS[i % PATTERNS.len()]))
    };
    let helm = helm(var);
    let values = format!("{{\"g\": [{}]}}", strings.join(", "));
    let cases: Vec<String> = (0..strings.len())
        .map(|i| template_for(i).replace(" I }}", &format!(" {i} }}}}")))
        .collect();
    let case_refs: Vec<&str> = cases.iter().map(String::as_str).collect();
    let dir = tempfile::tempdir().unwrap();
    write_chart(dir.path(), &case_refs, &values);
    let output = helm_template(&helm, dir.path()).unwrap_or_else(|e| panic!("helm failed: {e}"));
    let expected = helm_results(&output);
    let (data, funcs) = (values_of(&values), funcs());
    let mut mismatches = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let got = native(case, &data, &funcs);
        if got.as_ref() != Ok(&expected[&i]) {
            mismatches.push(format!(
                "seed {seed:#x} string {i} {} pattern {}\n  helm:   {:?}\n  native: {got:?}",
                strings[i],
                PATTERNS[i % PATTERNS.len()],
                expected[&i]
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{var}: {} mismatches\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn generated_regex_match_helm3() {
    generated_regex_with("STRATA_TEST_HELM3", 0x5eed_0007);
}

#[test]
fn generated_regex_match_helm4() {
    generated_regex_with("STRATA_TEST_HELM4", 0x5eed_0008);
}

#[test]
fn generated_collections_match_helm3() {
    compare_generated(
        "STRATA_TEST_HELM3",
        0x5eed_0005,
        &generated_pairs(0x5eed_0005, 150),
        COLLECTION_FUNCTIONS,
    );
}

#[test]
fn generated_collections_match_helm4() {
    compare_generated(
        "STRATA_TEST_HELM4",
        0x5eed_0006,
        &generated_pairs(0x5eed_0006, 150),
        COLLECTION_FUNCTIONS,
    );
}

#[test]
fn generated_numbers_match_helm3() {
    generated_numbers_with("STRATA_TEST_HELM3", 0x5eed_0003);
}

#[test]
fn generated_numbers_match_helm4() {
    generated_numbers_with("STRATA_TEST_HELM4", 0x5eed_0004);
}

#[test]
fn generated_strings_match_helm3() {
    generated_with("STRATA_TEST_HELM3", 0x5eed_0001);
}

#[test]
fn generated_strings_match_helm4() {
    generated_with("STRATA_TEST_HELM4", 0x5eed_0002);
}

#[test]
fn sprig_matches_helm3() {
    compare_with("STRATA_TEST_HELM3");
}

#[test]
fn sprig_matches_helm4() {
    compare_with("STRATA_TEST_HELM4");
}

#[test]
fn sprig_failures_match_helm3() {
    failures_with("STRATA_TEST_HELM3");
}

#[test]
fn sprig_failures_match_helm4() {
    failures_with("STRATA_TEST_HELM4");
}
