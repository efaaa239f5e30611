#ifndef CLINUXSHIM_H
#define CLINUXSHIM_H
// CLinuxShim: what Swift cannot do safely. Filled by the runtime issue.
int clinuxshim_placeholder(void);
#endif
