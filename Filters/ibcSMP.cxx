// SPDX-License-Identifier: BSD-3-Clause
#include "ibcSMP.h"

#include <vtkSMPTools.h>

#include <cstdlib>
#include <mutex>

namespace ibc
{
void useThreadedBackend()
{
  static std::once_flag once;
  std::call_once(once,
    []
    {
      if (!std::getenv("VTK_SMP_BACKEND_IN_USE"))
      {
        vtkSMPTools::SetBackend("STDThread");
      }
    });
}
}
