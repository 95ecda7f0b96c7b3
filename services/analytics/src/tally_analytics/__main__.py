from tally_analytics.main import DEFINITION
from tallykit.service import main as run


def main() -> None:
    run(DEFINITION)


if __name__ == "__main__":
    main()
