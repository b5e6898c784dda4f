// Kernel dispatch: which variants a session runs. See kernels.h and isa.h.
#pragma once

#include "kernels/isa.h"
#include "kernels/kernels.h"
