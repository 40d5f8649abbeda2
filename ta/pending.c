/* Stubs of pending.h: CKR_FUNCTION_NOT_SUPPORTED until the module function exists. */
#include "pending.h"
