// The build's facts come in three ways, so that a plain `swift build` from a fresh clone or from a `make dist`
// tarball still compiles (README.md, "Versions and releases"):
// - VERSION is read by the compiler itself (#embed), so the package and the binary cannot disagree;
// - generated.h is written by scripts/buildinfo.sh (make build, make deb) and ignored by git: commit and Swift;
// - archive_commit.h is tracked, and `git archive` (make dist) writes the commit into it (export-subst in
//   .gitattributes), so a tarball without .git still knows where it came from.
#include "CBuildInfo.h"
#include "archive_commit.h"
#if __has_include("generated.h")
#include "generated.h"
#endif

#pragma clang diagnostic ignored "-Wc23-extensions"
static const char version[] = {
#embed "../../VERSION"
    , 0
};

const char *mt_build_version(void) { return version; }

const char *mt_build_commit(void) {
#ifdef MT_BUILD_COMMIT
    return MT_BUILD_COMMIT;
#else
    // Outside a `git archive`, the placeholder is still there: no commit known.
    return MT_ARCHIVE_COMMIT[0] == '$' ? "" : MT_ARCHIVE_COMMIT;
#endif
}

const char *mt_build_swift(void) {
#ifdef MT_BUILD_SWIFT
    return MT_BUILD_SWIFT;
#else
    return "";
#endif
}
