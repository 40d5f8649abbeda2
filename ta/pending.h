/*
 * Module functions behind ta_C_* entry points that the token core does not implement yet.
 * Each answers CKR_FUNCTION_NOT_SUPPORTED from pending.c; implementing one means moving its
 * prototype to the module's header (core.h, mech.h, ...) and deleting its stub here.
 */
#ifndef TEEHSM_TA_PENDING_H
#define TEEHSM_TA_PENDING_H

#include "core.h"

#endif
