// What `mt --version` says about its own build; the library versions are asked of the libraries at run time.
#ifndef MT_CBUILDINFO_H
#define MT_CBUILDINFO_H

/// The text of the repository's VERSION file (the one owner of mt's version), as compiled in.
const char *mt_build_version(void);
/// The git commit the binary was built from, or "" when nobody could tell (see build_info.c).
const char *mt_build_commit(void);
/// `swift --version`'s first line as make saw it, or "" for a plain `swift build`.
const char *mt_build_swift(void);

#endif
