// SPDX-License-Identifier: BSD-3-Clause
#ifndef ibcSMP_h
#define ibcSMP_h

#include "ImplantBoneContactFiltersModule.h" // for export macro

namespace ibc
{
/// Selects VTK's STDThread SMP backend once per process. The Debian ParaView build defaults to
/// the Sequential backend, which would run every vtkSMPTools loop on one core. A user who set
/// VTK_SMP_BACKEND_IN_USE keeps their choice.
IMPLANTBONECONTACTFILTERS_EXPORT void useThreadedBackend();
}

#endif
