// SPDX-License-Identifier: BSD-3-Clause
#include "ibcPipeline.h"

#include <vtkDataArray.h>
#include <vtkDataSetAttributes.h>
#include <vtkExtentTranslator.h>
#include <vtkInformation.h>
#include <vtkNew.h>
#include <vtkStreamingDemandDrivenPipeline.h>

namespace ibc
{
void requestVolumePiece(vtkInformation* volumeInfo, int piece, int pieces, int ghosts)
{
  volumeInfo->Set(vtkStreamingDemandDrivenPipeline::UPDATE_PIECE_NUMBER(), 0);
  volumeInfo->Set(vtkStreamingDemandDrivenPipeline::UPDATE_NUMBER_OF_PIECES(), 1);
  volumeInfo->Set(vtkStreamingDemandDrivenPipeline::UPDATE_NUMBER_OF_GHOST_LEVELS(), 0);
  if (!volumeInfo->Has(vtkStreamingDemandDrivenPipeline::WHOLE_EXTENT()))
  {
    return;
  }
  int whole[6];
  int extent[6];
  volumeInfo->Get(vtkStreamingDemandDrivenPipeline::WHOLE_EXTENT(), whole);
  vtkNew<vtkExtentTranslator> translator;
  translator->PieceToExtentThreadSafe(
    piece, pieces, ghosts, whole, extent, vtkExtentTranslator::BLOCK_MODE, 0);
  volumeInfo->Set(vtkStreamingDemandDrivenPipeline::UPDATE_EXTENT(), extent, 6);
}

void cacheArrayRanges(vtkDataSetAttributes* attributes)
{
  for (int a = 0; attributes && a < attributes->GetNumberOfArrays(); ++a)
  {
    vtkDataArray* array = attributes->GetArray(a);
    if (!array)
    {
      continue;
    }
    // The information pass asks for each component's range and finite range, and for the
    // norm's range of an array with several components.
    const int components = array->GetNumberOfComponents();
    for (int c = components > 1 ? -1 : 0; c < components; ++c)
    {
      double range[2];
      array->GetRange(range, c);
      array->GetFiniteRange(range, c);
    }
  }
}
} // namespace ibc
