// Names the CT's real array in the Scalars property of the plugin's filters when they are
// created in the GUI (Filters menu, Python shell, the Analyze action). The XML default is "HU",
// kept on purpose (see NoDefault in the XML): a domain default chosen before the input has run
// names no array. A CT read by another reader holds its values under another name (ParaView's
// NRRD and MetaImage readers say "ImageFile", its DICOM reader "DICOMImage"); the panel then
// showed "HU (?)". When the input's arrays are known and none is the one chosen, the input's
// active scalars are chosen instead, as ParaView does for its own filters.
#ifndef ibcScalarsChoice_h
#define ibcScalarsChoice_h

#include <QObject>

class pqPipelineSource;

class ibcScalarsChoice : public QObject
{
  Q_OBJECT

public:
  explicit ibcScalarsChoice(QObject* parent = nullptr);
  void startup();
  void shutdown() {}

private Q_SLOTS:
  void chooseScalars(pqPipelineSource* source);
};

#endif
