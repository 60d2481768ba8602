using System.Globalization;

namespace RichLazyOrleans.Sweeps;

/// <summary>Axis values as a researcher wrote them, not as exp/log arithmetic left them.</summary>
public static class AxisValues
{
    /// <summary>
    /// The shortest decimal of at most 12 significant digits within 16 ulp of <paramref name="v"/>, else v itself.
    /// The arithmetic of a lattice value (a log, a product, an exp) errs by a few ulp (up to about |ln v| ulp), so a
    /// value that is exactly a short decimal (0.01, 10, 256, 0.55) comes back to the double nearest it. A value that
    /// is no short decimal (∛10) stays as computed: the chance that it lies within 16 ulp of a 12-digit decimal by
    /// accident is below 1e-3, and then it moves by less than 16 ulp.
    /// </summary>
    public static double Snap(double v)
    {
        if (!double.IsFinite(v) || v == 0) return v;
        double tolerance = 16 * (Math.BitIncrement(Math.Abs(v)) - Math.Abs(v));
        for (int digits = 1; digits <= 12; digits++)
        {
            double s = double.Parse(v.ToString("E" + (digits - 1), CultureInfo.InvariantCulture),
                CultureInfo.InvariantCulture);
            if (Math.Abs(s - v) <= tolerance) return s;
        }
        return v;
    }

    /// <summary>
    /// The values of an axis on the finest lattice (<paramref name="intervals"/> equal steps in its scale), for the
    /// check that an integer axis refines only to distinct integers.
    /// </summary>
    public static double[] Finest(Axis axis, int intervals) =>
        Enumerable.Range(0, intervals + 1).Select(k => axis.ValueAt(k / (double)intervals)).ToArray();
}
