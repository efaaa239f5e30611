#include "CLinuxShim.h"
int clinuxshim_placeholder(void) { return 0; }
