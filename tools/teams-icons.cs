// Draws the WinterOps Teams app icons (no downloads, no image library): a white snowflake on NHS blue
// for color.png (192x192) and the same snowflake in white on transparent for outline.png (32x32).
//   dotnet run tools/teams-icons.cs -- infra-bicep/teams-app
using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

if (args is not [var folder])
{
    Console.Error.WriteLine("usage: dotnet run tools/teams-icons.cs -- <folder>");
    return 2;
}

byte[] nhsBlue = [0x00, 0x5E, 0xB8, 0xFF];
byte[] white = [0xFF, 0xFF, 0xFF, 0xFF];
byte[] transparent = [0xFF, 0xFF, 0xFF, 0x00];
File.WriteAllBytes(Path.Combine(folder, "color.png"), Png.Encode(192, Snowflake.Draw(192, nhsBlue, white)));
File.WriteAllBytes(Path.Combine(folder, "outline.png"), Png.Encode(32, Snowflake.Draw(32, transparent, white)));
return 0;

static class Snowflake
{
    /// <summary>RGBA pixels: three bars through the centre at 0, 60 and 120 degrees, each with a pair of branches.</summary>
    public static byte[] Draw(int size, byte[] background, byte[] ink)
    {
        var pixels = new byte[size * size * 4];
        var centre = (size - 1) / 2.0;
        var arm = size * 0.40;
        var width = Math.Max(1.6, size * 0.055);
        for (var y = 0; y < size; y++)
        {
            for (var x = 0; x < size; x++)
            {
                var (dx, dy) = (x - centre, y - centre);
                var on = false;
                for (var k = 0; k < 6 && !on; k++)
                {
                    var angle = k * Math.PI / 3;
                    var (ux, uy) = (Math.Cos(angle), Math.Sin(angle));
                    var along = (dx * ux) + (dy * uy);
                    var across = Math.Abs((-dx * uy) + (dy * ux));
                    on = (along >= 0 && along <= arm && across <= width / 2)
                        || Branch(dx - (ux * arm * 0.6), dy - (uy * arm * 0.6), angle, arm * 0.28, width);
                }

                (on ? ink : background).CopyTo(pixels, ((y * size) + x) * 4);
            }
        }

        return pixels;
    }

    private static bool Branch(double dx, double dy, double angle, double length, double width)
    {
        foreach (var turn in new[] { Math.PI / 4, -Math.PI / 4 })
        {
            var (ux, uy) = (Math.Cos(angle + turn), Math.Sin(angle + turn));
            var along = (dx * ux) + (dy * uy);
            if (along >= 0 && along <= length && Math.Abs((-dx * uy) + (dy * ux)) <= width / 2)
            {
                return true;
            }
        }

        return false;
    }
}

static class Png
{
    public static byte[] Encode(int size, byte[] rgba)
    {
        var raw = new MemoryStream();
        for (var y = 0; y < size; y++)
        {
            raw.WriteByte(0); // filter: none
            raw.Write(rgba, y * size * 4, size * 4);
        }

        var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            raw.Position = 0;
            raw.CopyTo(zlib);
        }

        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, size);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), size);
        header[8] = 8; // bits per channel
        header[9] = 6; // RGBA
        var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        Chunk(png, "IHDR", header);
        Chunk(png, "IDAT", compressed.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        var typed = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        Span<byte> number = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(number, data.Length);
        png.Write(number);
        png.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(number, Crc32(typed));
        png.Write(number);
    }

    private static uint Crc32(byte[] bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var i = 0; i < 8; i++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }
}
