using CsCheck;
using WinterOps.Core.Placements;

namespace WinterOps.Core.Tests.Placements;

/// <summary>NHS numbers: ten digits, the last a Modulus 11 check digit over the first nine (weights 10 down to 2).</summary>
public sealed class NhsNumberTests
{
    /// <summary>The check digit the standard gives for nine digits, or null when it is 10 (no valid number).</summary>
    private static int? CheckDigit(string nine)
    {
        var sum = nine.Select((c, i) => (c - '0') * (10 - i)).Sum();
        var check = 11 - (sum % 11);
        return check switch
        {
            11 => 0,
            10 => null,
            _ => check,
        };
    }

    [Fact]
    public void CheckDigit_OfThePublishedTestNumber_IsNine()
    {
        // 9*10 + 4*9 + 3*8 + 4*7 + 7*6 + 6*5 + 5*4 + 9*3 + 1*2 = 299; 299 mod 11 = 2; 11 - 2 = 9.
        CheckDigit("943476591").ShouldBe(9);
    }

    [Theory]
    [InlineData("9434765919")]
    [InlineData("4010232137")]
    public void IsValid_PublishedSyntheticNumbers_AreValid(string number) => NhsNumber.IsValid(number).ShouldBeTrue();

    [Theory]
    [InlineData("999000001")]
    [InlineData("123456788")]
    [InlineData("485777345")]
    [InlineData("600000001")]
    public void IsValid_NineDigitsWithTheirComputedCheckDigit_IsValid(string nine)
    {
        var check = CheckDigit(nine).ShouldNotBeNull();

        NhsNumber.IsValid(nine + check).ShouldBeTrue();
    }

    [Fact]
    public void IsValid_WhenTheRemainderIsZero_TheCheckDigitIsZero()
    {
        // 1*10 + 1*9 + 1*3 = 22; 22 mod 11 = 0; 11 - 0 = 11, which means check digit 0.
        CheckDigit("110000010").ShouldBe(0);
        NhsNumber.IsValid("1100000100").ShouldBeTrue();
        NhsNumber.IsValid("1100000101").ShouldBeFalse();
    }

    [Theory]
    [InlineData("9434765910")]
    [InlineData("9434765918")]
    [InlineData("4010232138")]
    public void IsValid_WithTheWrongCheckDigit_IsInvalid(string number) => NhsNumber.IsValid(number).ShouldBeFalse();

    [Fact]
    public void IsValid_WhenTheCheckDigitWouldBeTen_IsInvalidWhateverTheLastDigit()
    {
        // 6*2 = 12; 12 mod 11 = 1; 11 - 1 = 10: no tenth digit makes this valid.
        CheckDigit("000000006").ShouldBeNull();
        for (var last = 0; last <= 9; last++)
        {
            NhsNumber.IsValid($"000000006{last}").ShouldBeFalse($"last digit {last}");
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("943476591")]
    [InlineData("94347659190")]
    [InlineData("943 476 5919")]
    [InlineData("943-476-5919")]
    [InlineData("94347659l9")]
    [InlineData("ABCDEFGHIJ")]
    [InlineData("943476591\u0669")]
    [InlineData("\u0669434765919")]
    public void IsValid_WithTheWrongLengthOrNonDigits_IsInvalid(string value) => NhsNumber.IsValid(value).ShouldBeFalse();

    [Fact]
    public void IsValid_AcceptsExactlyTheComputedCheckDigit_ForAnyNineDigits()
    {
        Gen.Int[0, 999_999_999].Select(n => n.ToString("D9", System.Globalization.CultureInfo.InvariantCulture))
            .Sample(nine =>
            {
                var check = CheckDigit(nine);
                for (var last = 0; last <= 9; last++)
                {
                    NhsNumber.IsValid($"{nine}{last}").ShouldBe(check == last, $"{nine}{last}");
                }
            }, iter: 2_000);
    }
}
