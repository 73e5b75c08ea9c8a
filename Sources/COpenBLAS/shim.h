/* OpenBLAS's CBLAS interface plus its openblas_* thread controls (declared in the same header). */
#include <cblas.h>
