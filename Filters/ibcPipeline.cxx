// SPDX-License-Identifier: BSD-3-Clause
#include "ibcPipeline.h"

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
}
