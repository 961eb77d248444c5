// SPDX-License-Identifier: BSD-3-Clause
// Pipeline helpers shared by the filters that take a CT.
#ifndef ibcPipeline_h
#define ibcPipeline_h

#include "ImplantBoneContactFiltersModule.h" // for export macro

#include <string>

class vtkDataSetAttributes;
class vtkDataArray;
class vtkInformation;

namespace ibc
{
/// Asks an image input for this rank's piece of its whole extent (plus `ghosts` voxels), by
/// extent and as piece 0 of 1: given a piece request, the executive would split the extent a
/// second time. Does nothing when the input has no whole extent.
IMPLANTBONECONTACTFILTERS_EXPORT void requestVolumePiece(vtkInformation* volumeInfo,
  int piece,
  int pieces,
  int ghosts);

/// Computes every array's range and finite range now, threaded, so that they are cached with
/// the arrays: ParaView's information pass (run when the first filter that lists the arrays is
/// added, and after every update) reads them from the cache instead of walking every voxel on
/// one thread, a stall of seconds on a large CT.
IMPLANTBONECONTACTFILTERS_EXPORT void cacheArrayRanges(vtkDataSetAttributes* attributes);

/// How many values of the array's first component are NaN or infinite (0 at once for integer
/// arrays, which cannot hold them), threaded.
IMPLANTBONECONTACTFILTERS_EXPORT long long countNonFinite(vtkDataArray* array);

/// The volume's array to read: `selected` (the Scalars choice) if the volume has it, else its
/// active scalars. When the choice names an array the volume lacks, `note` says which array is
/// read instead (empty otherwise), so that the user is told rather than left to guess.
IMPLANTBONECONTACTFILTERS_EXPORT vtkDataArray* selectedOrActiveScalars(vtkDataArray* selected,
  const char* selectedName,
  vtkDataSetAttributes* pointData,
  std::string& note);
}

#endif
