// The classic two-view Gruen zone diagram, drawn with QPainter so that the same drawing goes to
// the screen, to a PNG and to an SVG: the stem outline in the AP view (zones 1-7: lateral 1-3,
// tip 4, medial 5-7) and in the lateral view (zones 8-14: anterior 8-10, tip 11, posterior
// 12-14), each zone filled by one column of the Gruen Zone Stats table and its value written in.
#ifndef ibcGruenZoneDiagram_h
#define ibcGruenZoneDiagram_h

#include <QMap>
#include <QString>
#include <QWidget>

class QPainter;

class ibcGruenZoneDiagram : public QWidget
{
  Q_OBJECT
  // Read by the GUI test (XML playback checks object properties).
  Q_PROPERTY(QString zoneValues READ zoneValues)
  Q_PROPERTY(QString columnName READ columnName)

public:
  explicit ibcGruenZoneDiagram(QWidget* parent = nullptr);

  /// Shows `column`'s value per zone (zone 0, the whole stem, is written below the views).
  void setValues(const QString& column, const QMap<int, double>& valueByZone);
  void clear();

  /// "zone=value" pairs of the zones shown, values with 4 significant digits, "-" for none.
  QString zoneValues() const;
  QString columnName() const { return this->Column; }

  /// Draws the whole diagram into `target` (aspect ratio kept, centred).
  void render(QPainter& painter, const QRectF& target) const;
  bool exportPNG(const QString& path) const;
  bool exportSVG(const QString& path) const;

  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

protected:
  void paintEvent(QPaintEvent* event) override;

private:
  void drawView(QPainter& painter, int view) const;
  void drawLegend(QPainter& painter) const;
  QColor fillColour(double value) const;
  QString label(double value) const;
  bool isFraction() const;

  QString Column;
  QMap<int, double> Values;
  double Low = 0.0;
  double High = 1.0;
};

#endif
