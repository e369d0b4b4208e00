// `git archive` replaces the placeholder with the commit (export-subst, .gitattributes); git itself never does.
#define MT_ARCHIVE_COMMIT "$Format:%H$"
