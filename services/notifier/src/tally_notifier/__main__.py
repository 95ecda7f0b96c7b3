import tallykit.service
from tally_notifier.main import DEFINITION


def main() -> None:
    tallykit.service.main(DEFINITION)


if __name__ == "__main__":
    main()
